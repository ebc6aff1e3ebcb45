"""The web server around the dashboard: sign-in and roles, the upload and export routes, delivery, warm-up."""
