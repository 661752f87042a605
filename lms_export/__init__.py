"""lms-export: carry learning cards into the systems where teaching happens."""

__version__ = "0.1.0"
