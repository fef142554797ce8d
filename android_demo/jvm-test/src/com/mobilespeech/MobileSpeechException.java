// Java twin of MobileSpeechException in app/src/main/java/com/mobilespeech/MobileSpeech.kt:
// same Java-visible API (the JNI bridge constructs it with (int status, String message)).
package com.mobilespeech;

/** A failure reported by libmobilespeech: getStatus() is the C ms_status, the message is ms_last_error. */
public final class MobileSpeechException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public static final int OK = 0;
  public static final int DONE = 1;
  public static final int ERR_INVALID_ARGUMENT = 2;
  public static final int ERR_MODEL = 3;
  public static final int ERR_INVALID_TEXT = 4;
  public static final int ERR_INVALID_AUDIO = 5;
  public static final int ERR_CANCELLED = 6;
  public static final int ERR_STATE = 7;
  public static final int ERR_INTERNAL = 8;
  public static final int ERR_NO_MEMORY = 9;

  private final int status;

  public MobileSpeechException(int status, String message) {
    super(message);
    this.status = status;
  }

  public int getStatus() {
    return status;
  }

  /** "MS_ERR_MODEL", ... */
  public String getStatusName() {
    return statusName(status);
  }

  @Override
  public String toString() {
    return "MobileSpeechException[" + getStatusName() + "]: " + getMessage();
  }

  /** Name of an ms_status value, as ms_status_string() spells it. */
  public static String statusName(int status) {
    switch (status) {
      case OK: return "MS_OK";
      case DONE: return "MS_DONE";
      case ERR_INVALID_ARGUMENT: return "MS_ERR_INVALID_ARGUMENT";
      case ERR_MODEL: return "MS_ERR_MODEL";
      case ERR_INVALID_TEXT: return "MS_ERR_INVALID_TEXT";
      case ERR_INVALID_AUDIO: return "MS_ERR_INVALID_AUDIO";
      case ERR_CANCELLED: return "MS_ERR_CANCELLED";
      case ERR_STATE: return "MS_ERR_STATE";
      case ERR_INTERNAL: return "MS_ERR_INTERNAL";
      case ERR_NO_MEMORY: return "MS_ERR_NO_MEMORY";
      default: return "MS_UNKNOWN_STATUS";
    }
  }
}
