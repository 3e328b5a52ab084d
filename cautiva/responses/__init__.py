"""Survey responses: pseudonymous person keys, returning people, answers stored, access granted."""
