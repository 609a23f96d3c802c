package io.streambelief.flink.parse;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.model.Example;
import io.streambelief.model.record.ExampleCodec;

/** Each class of bad record leaves the stream for the dead-letter output, with its reason; the next good one goes on. */
class ParseExamplesTest {
    private static final Example GOOD = new Example(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 1);

    record BadRecord(String kind, byte[] value, String reason) {
        @Override
        public String toString() {
            return kind;
        }
    }

    static BadRecord[] badRecords() {
        float[] nan = GOOD.features().clone();
        nan[2] = Float.NaN;
        return new BadRecord[] {
            new BadRecord("unparseable", "{\"features\": [0.1,".getBytes(StandardCharsets.UTF_8), "not JSON: "),
            new BadRecord("wrong feature count", ExampleFormat.CSV.encode(new Example(new float[] {1, 2, 3}, 1)),
                    "has 3 features, the model takes 4"),
            new BadRecord("label out of range", ExampleFormat.JSON.encode(new Example(GOOD.features(), 3)),
                    "label 3 is outside 0..2"),
            new BadRecord("NaN feature", ExampleCodec.encode(new Example(nan, 0)), "feature 2 is NaN"),
            new BadRecord("empty", new byte[0], "empty record"),
            new BadRecord("oversized", new byte[1001], "record is 1001 bytes, the limit is 1000"),
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRecords")
    void aBadRecordGoesToDeadLettersWithItsReasonAndTheStreamGoesOn(BadRecord bad) throws Exception {
        try (var harness = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new ParseExamples(4, 3, 1000)))) {
            harness.open();
            harness.processElement(new RawRecord("examples", 1, 41, "k".getBytes(StandardCharsets.UTF_8), bad.value()), 0);
            harness.processElement(new RawRecord("examples", 1, 42, null, ExampleFormat.BINARY.encode(GOOD)), 0);

            assertThat(harness.extractOutputValues()).containsExactly(GOOD);
            var letters = harness.getSideOutput(DeadLetters.OUTPUT);
            assertThat(letters).hasSize(1);
            DeadLetter letter = letters.peek().getValue();
            assertThat(letter.reason()).startsWith(bad.reason());
            assertThat(letter.value()).isEqualTo(bad.value());
            assertThat(letter.key()).isEqualTo("k".getBytes(StandardCharsets.UTF_8));
            assertThat(Arrays.asList(letter.sourceTopic(), letter.sourcePartition(), letter.sourceOffset()))
                    .containsExactly("examples", 1, 41L);
        }
    }
}
