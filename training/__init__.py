"""Training recipes: corpus preparation, model training and evaluation for MobileSpeech."""
