"""The operator's side of the portal: staff sign-in, the admin pages and the admin JSON API."""
