"""Staff accounts: passwords, bearer tokens, TOTP, and who may do what."""
