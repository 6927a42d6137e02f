"""The Textual terminal app: the app factory, one module per screen and the app's CSS."""
