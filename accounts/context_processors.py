def tenant(request):
    return {"organisation": getattr(request, "organisation", None)}
