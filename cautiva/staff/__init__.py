"""Staff access: roles and their rights, users, API tokens and the audit log."""
