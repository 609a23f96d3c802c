package io.streambelief.processes;

/**
 * Ends a child JVM when the JVM that started it is gone. A Ctrl-C reaches the whole process
 * group and a normal exit stops children through shutdown hooks, but a parent killed with
 * SIGKILL runs no hooks: without this, its broker and server would live on as orphans.
 *
 * <p>Uses only the JDK, because it runs inside the broker's JVM, where none of our dependencies are.
 */
public final class ParentWatchdog {
    /** System property carrying the parent's pid; {@link ChildJvm} sets it. */
    public static final String PARENT_PID_PROPERTY = "streambelief.parent.pid";

    private ParentWatchdog() {}

    /** If this JVM was started by {@link ChildJvm}, exits (running shutdown hooks) once the parent is gone. */
    public static void exitWhenParentDies() {
        String pid = System.getProperty(PARENT_PID_PROPERTY);
        if (pid == null) {
            return;
        }
        ProcessHandle.of(Long.parseLong(pid)).ifPresentOrElse(
                parent -> parent.onExit().thenRun(ParentWatchdog::parentGone),
                ParentWatchdog::parentGone);
    }

    private static void parentGone() {
        System.err.println("Parent process is gone; shutting down");
        System.exit(0);
    }
}
