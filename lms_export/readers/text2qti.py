NAME = "text2qti"
EXTENSIONS = (".txt", ".md")
