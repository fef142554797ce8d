"""The package's error types: every bad input surfaces as one of these, never a crash."""


class MobileSpeechError(Exception):
    """Base class of every error the SDK raises on purpose."""


class InvalidTextError(MobileSpeechError, ValueError):
    """Text is empty, too long, or has nothing pronounceable."""


class InvalidAudioError(MobileSpeechError, ValueError):
    """A prompt is not audio, is silent, or is too short / too long."""


class BundleError(MobileSpeechError):
    """A model bundle is missing, corrupt, tampered with or does not match the runtime."""


class ConfigError(MobileSpeechError, ValueError):
    """A configuration or argument is out of its allowed range."""
