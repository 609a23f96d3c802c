package io.streambelief.processes.broker;

import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;

import io.streambelief.processes.ParentWatchdog;

/**
 * Main class of the broker's child JVM: formats the KRaft storage on first start, then runs
 * Kafka's own {@code kafka.Kafka} main. Kafka is reached by reflection because this class is
 * compiled without Kafka's server jars, which only the broker's JVM has.
 *
 * <p>Arguments: {@code <server.properties> <cluster-id>}.
 */
public final class BrokerProcess {
    private BrokerProcess() {}

    public static void main(String[] args) throws Throwable {
        if (args.length != 2) {
            System.err.println("usage: BrokerProcess <server.properties> <cluster-id>");
            System.exit(2);
        }
        ParentWatchdog.exitWhenParentDies();
        String config = args[0];
        String clusterId = args[1];
        // --ignore-formatted makes a restart on an existing data directory a no-op here.
        int formatted = (int) invoke("kafka.tools.StorageTool", "execute",
                new Class<?>[] {String[].class, PrintStream.class},
                new String[] {"format", "--standalone", "--ignore-formatted", "-t", clusterId, "-c", config},
                System.out);
        if (formatted != 0) {
            System.err.println("Formatting the KRaft storage failed with code " + formatted);
            System.exit(formatted);
        }
        invoke("kafka.Kafka", "main", new Class<?>[] {String[].class}, (Object) new String[] {config});
    }

    private static Object invoke(String className, String method, Class<?>[] types, Object... args) throws Throwable {
        try {
            return Class.forName(className).getMethod(method, types).invoke(null, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
