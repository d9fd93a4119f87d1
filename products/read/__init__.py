"""The read side: denormalized read tables, the queries over them, and the projectors that fill them."""
