"""Reading and generating CA DOJ bulk research files."""
