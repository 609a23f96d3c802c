package io.streambelief.deployment.manifest;

/** A kustomization that kubectl would refuse or apply other than it reads. */
public final class InvalidKustomizationException extends RuntimeException {

    InvalidKustomizationException(String message) {
        super(message);
    }

    InvalidKustomizationException(String message, Throwable cause) {
        super(message, cause);
    }
}
