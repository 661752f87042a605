NAME = "cardpage"
EXTENSIONS = ()

def looks_like(text):
    return False
