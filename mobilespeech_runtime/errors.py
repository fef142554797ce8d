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


class FileAccessError(MobileSpeechError):
    """A file cannot be read or written: the message carries the system's reason (not found,
    permission denied, no space left on device, file too large, not a regular file or pipe)."""


class AudioFileError(FileAccessError, InvalidAudioError):
    """An audio file cannot be read (missing, a directory, a device): an ``InvalidAudioError``
    to API callers, an I/O error (exit code 5) to the command-line tools."""


# Exit codes of both command-line tools (mobilespeech and mobilespeech_cli; README "Errors and
# exit codes"). mobilespeech_cli.cc keeps the same table.
EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug: please report it
EXIT_USAGE = 2  # bad command line: unknown option, value out of range, --out refused
EXIT_BAD_INPUT = 3  # the text or the prompt / input audio cannot be used
EXIT_BAD_BUNDLE = 4  # the model bundle is missing, corrupt or does not match the runtime
EXIT_IO = 5  # a file cannot be read or written (the system's reason is printed)
EXIT_NO_MEMORY = 6
EXIT_INTERRUPTED = 130


def exit_code(error: BaseException) -> int:
    """The exit code for an error that ends a command."""
    if isinstance(error, FileAccessError):
        return EXIT_IO
    if isinstance(error, InvalidTextError | InvalidAudioError):
        return EXIT_BAD_INPUT
    if isinstance(error, BundleError):
        return EXIT_BAD_BUNDLE
    if isinstance(error, MemoryError):
        return EXIT_NO_MEMORY
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, MobileSpeechError):
        return EXIT_USAGE
    return EXIT_INTERNAL
