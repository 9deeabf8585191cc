def dashboard_callback(request, context):
    """Figures for the admin's front page; each app adds its own in later issues."""
    return context
