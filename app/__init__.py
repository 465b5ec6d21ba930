"""callpledge: every call a recruiter did not take becomes an obligation until it is returned."""
