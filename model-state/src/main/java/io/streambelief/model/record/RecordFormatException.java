package io.streambelief.model.record;

/** Bytes that are not a valid record of the expected type and format version. */
public class RecordFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public RecordFormatException(String message) {
        super(message);
    }
}
