"""The gRPC edge: thin servicers over the image service; errors become status codes here."""
