"""Pure writers: schema objects in, .docx / .xlsx / .csv files out. No Textual, no SQLAlchemy."""
