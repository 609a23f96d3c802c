package io.streambelief.flink.parse;

import java.util.Arrays;

/**
 * A Kafka record as it was read, before anything is made of it: parsing happens in an operator
 * of its own, so that a record that fails to parse can still go to the dead-letter topic whole.
 */
public record RawRecord(String topic, int partition, long offset, byte[] key, byte[] value) {

    @Override
    public boolean equals(Object o) {
        return o instanceof RawRecord other && topic.equals(other.topic) && partition == other.partition
                && offset == other.offset && Arrays.equals(key, other.key) && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * topic.hashCode() + partition) + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return "RawRecord[" + topic + "-" + partition + "@" + offset + "]";
    }
}
