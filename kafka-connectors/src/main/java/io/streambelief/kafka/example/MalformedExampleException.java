package io.streambelief.kafka.example;

/** A record that is not a usable example; {@link #reason()} says why in a few words. */
public class MalformedExampleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    public MalformedExampleException(String reason) {
        super(reason, null, false, false);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
