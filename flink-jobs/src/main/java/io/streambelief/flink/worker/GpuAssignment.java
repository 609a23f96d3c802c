package io.streambelief.flink.worker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;

/**
 * Which GPU each worker of a job computes on within one TaskManager. Flink's external-resource
 * framework hands every subtask of a TaskManager the same set of GPUs (those the TaskManager
 * declared), so the workers share them out among themselves: each takes the least used one
 * (lowest index first) when it opens and gives it back when it closes, which spreads W workers over
 * G GPUs whatever their subtask indexes, across restarts too. Static per job class loader, as the
 * workers of one job in one TaskManager are.
 */
public final class GpuAssignment {
    /** The external resource's name in the TaskManager configuration: {@code external-resource.gpu.*}. */
    public static final String RESOURCE = "gpu";
    /** The property Flink's GPU drivers, and ours, give each GPU. */
    public static final String INDEX = "index";

    private static final Map<Integer, Integer> USERS = new HashMap<>();

    private GpuAssignment() {}

    /** The GPU indexes in Flink's resource infos, in the order given; an error names a malformed one. */
    public static List<Integer> indexes(Collection<ExternalResourceInfo> infos) {
        List<Integer> indexes = new ArrayList<>();
        for (ExternalResourceInfo info : infos) {
            String index = info.getProperty(INDEX).orElseThrow(() -> new IllegalStateException(
                    "The TaskManager's '" + RESOURCE + "' resource has no '" + INDEX + "' property (keys " + info.getKeys()
                            + "); check external-resource." + RESOURCE + ".driver-factory.class"));
            try {
                indexes.add(Integer.parseInt(index.strip()));
            } catch (NumberFormatException e) {
                throw new IllegalStateException("The TaskManager's '" + RESOURCE + "' resource has index '" + index
                        + "', not a number; check its discovery script", e);
            }
        }
        return indexes;
    }

    /** Takes the least used of {@code devices}; empty when there are none. */
    public static synchronized OptionalInt acquire(List<Integer> devices) {
        Integer best = null;
        for (Integer device : devices.stream().sorted().distinct().toList()) {
            if (best == null || USERS.getOrDefault(device, 0) < USERS.getOrDefault(best, 0)) {
                best = device;
            }
        }
        if (best == null) {
            return OptionalInt.empty();
        }
        USERS.merge(best, 1, Integer::sum);
        return OptionalInt.of(best);
    }

    /** Gives back a device from {@link #acquire}. */
    public static synchronized void release(OptionalInt device) {
        device.ifPresent(d -> USERS.computeIfPresent(d, (key, users) -> users > 1 ? users - 1 : null));
    }
}
