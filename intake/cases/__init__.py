"""The focal point case API: lists, detail, lifecycle events, messages, sharing."""
