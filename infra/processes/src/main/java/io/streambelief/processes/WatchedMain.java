package io.streambelief.processes;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Main class of a child JVM whose real program is not ours (Flink's JobManager and TaskManager
 * entry points): starts the {@link ParentWatchdog}, then runs the program's own main. Without
 * it, a parent killed with SIGKILL would leave a whole Flink cluster running as orphans.
 *
 * <p>Arguments: {@code <main-class> [arguments of that main...]}. Uses only the JDK, like
 * {@link ParentWatchdog}, because it runs on classpaths that have none of our dependencies.
 */
public final class WatchedMain {
    private WatchedMain() {}

    public static void main(String[] args) throws Throwable {
        if (args.length < 1) {
            System.err.println("usage: WatchedMain <main-class> [arguments...]");
            System.exit(2);
        }
        ParentWatchdog.exitWhenParentDies();
        try {
            Class.forName(args[0]).getMethod("main", String[].class)
                    .invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
