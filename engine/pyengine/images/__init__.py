"""Local images: the image service composing registry, content store, snapshots and metadata."""
