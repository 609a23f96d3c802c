package io.streambelief.flink.parse;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.example.MalformedExampleException;

/**
 * The dense and the sparse parser refuse records the same way, so that one dead-letter sink takes
 * either's letters and a letter reads the same whichever model refused it.
 */
public final class DeadLetters {
    /** The parsers' side output of refused records. */
    public static final OutputTag<DeadLetter> OUTPUT =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    private DeadLetters() {}

    /** {@code record} where it was read, with why it is not an example. */
    static DeadLetter of(RawRecord record, MalformedExampleException refusal) {
        return new DeadLetter(record.topic(), record.partition(), record.offset(), record.key(), record.value(),
                refusal.reason());
    }
}
