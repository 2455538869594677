"""Reports in: the JSON API (the web form lives in `channels.web`)."""
