"""Data care: CSV export of obligations, erasing a caller, and retention of closed ones."""
