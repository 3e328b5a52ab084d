"""Survey forms: publishing XLSForm versions, assigning them to points, resolving what to show."""
