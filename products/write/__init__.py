"""The write side: normalized tables, the commands that change them, the event log, and what writes answer with."""
