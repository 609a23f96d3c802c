package io.streambelief.kafka.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import io.streambelief.model.Example;
import io.streambelief.model.record.ExampleCodec;

class ExampleParserTest {
    private static final int FEATURES = 4;
    private final ExampleParser parser = new ExampleParser(FEATURES, 3, 1024);

    @ParameterizedTest
    @EnumSource(ExampleFormat.class)
    void everyFormatReadsBackExactlyWhatWasWritten(ExampleFormat format) {
        Random random = new Random(7);
        ExampleParser wide = new ExampleParser(50, 5, 1 << 20);
        for (int n = 0; n < 2_000; n++) {
            float[] features = new float[50];
            for (int i = 0; i < features.length; i++) {
                features[i] = switch (random.nextInt(4)) {
                    case 0 -> 0f;
                    case 1 -> random.nextInt(256) / 255f;
                    case 2 -> (float) random.nextGaussian() * 1e4f;
                    default -> Float.intBitsToFloat(random.nextInt()) / 1e30f;
                };
                if (!Float.isFinite(features[i])) {
                    features[i] = -0f;
                }
            }
            Example example = new Example(features, random.nextInt(5));

            assertThat(wide.parse(format.encode(example))).isEqualTo(example);
        }
    }

    @Test
    void textFormatsToleratePaddingLineEndsAndFieldOrder() {
        Example expected = new Example(new float[] {0.5f, 0f, -2f, 1e-3f}, 2);

        assertThat(parser.parse(utf8("  2, 0.5 ,0,-2,1e-3\r\n"))).isEqualTo(expected);
        assertThat(parser.parse(utf8("\n{\"label\": 2, \"id\": \"x\", \"features\": [0.5, 0, -2.0, 0.001]}\n")))
                .isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "1,0.1,0.2,0.3                        | has 3 features, the model takes 4",
        "1,0.1,0.2,0.3,0.4,0.5                | has 5 features, the model takes 4",
        "3,0.1,0.2,0.3,0.4                    | label 3 is outside 0..2",
        "-1,0.1,0.2,0.3,0.4                   | label -1 is outside 0..2",
        "x,0.1,0.2,0.3,0.4                    | CSV label 'x' is not an integer",
        "1.5,0.1,0.2,0.3,0.4                  | CSV label '1.5' is not an integer",
        "1,0.1,,0.3,0.4                       | CSV field 2 is empty",
        "1,0.1,abc,0.3,0.4                    | CSV field 2 is not a number: 'abc'",
        "1,0.1,-,0.3,0.4                      | CSV field 2 is not a number: '-'",
        "1,0.1,.,0.3,0.4                      | CSV field 2 is not a number: '.'",
        "1,0.1,NaN,0.3,0.4                    | feature 1 is NaN",
        "1,0.1,0.2,Infinity,0.4               | feature 2 is Infinity",
        "1,0.1,0.2,1e39,0.4                   | feature 2 is Infinity",
        "'{\"features\":[0.1,0.2,0.3,0.4]}'     | missing 'label'",
        "'{\"label\":1}'                        | missing 'features'",
        "'{\"features\":\"0.1\",\"label\":1}'     | 'features' is not an array",
        "'{\"features\":[0.1,\"a\",0,0],\"label\":1}' | feature 1 is not a number",
        "'{\"features\":[0.1,NaN,0,0],\"label\":1}' | feature 1 is NaN",
        "'{\"features\":[0.1,0,0,0],\"label\":1.0}' | 'label' is not an integer",
        "'{\"features\":[0.1,0,0,0],\"label\":1} {}' | not JSON: content after the object",
        "'{\"features\":[0.1,0,0,0],\"label\":99999999999}' | 'label' is not an integer",
    })
    void eachKindOfBadTextRecordIsRefusedWithItsReason(String record, String reason) {
        assertThat(reasonFor(utf8(record))).isEqualTo(reason);
    }

    @Test
    void truncatedJsonIsNotJson() {
        assertThat(reasonFor(utf8("{\"features\": [0.1, "))).startsWith("not JSON: ");
    }

    @Test
    void emptyBlankMultiLineAndOversizedRecordsAreRefused() {
        assertThat(reasonFor(new byte[0])).isEqualTo("empty record");
        assertThat(reasonFor(null)).isEqualTo("empty record");
        assertThat(reasonFor(utf8(" \r\n\t"))).isEqualTo("empty record");
        assertThat(reasonFor(utf8("1,0,0,0,0\n2,0,0,0,0"))).isEqualTo("CSV record has more than one line");
        assertThat(reasonFor(new byte[1025])).isEqualTo("record is 1025 bytes, the limit is 1024");
    }

    @Test
    void binaryRecordsAreCheckedLikeText() {
        byte[] good = ExampleCodec.encode(new Example(new float[] {1, 2, 3, 4}, 1));
        byte[] flipped = good.clone();
        flipped[good.length - 6] ^= 0x10;

        assertThat(parser.parse(good)).isEqualTo(new Example(new float[] {1, 2, 3, 4}, 1));
        assertThat(reasonFor(flipped)).startsWith("corrupt binary example: ");
        assertThat(reasonFor(Arrays.copyOf(good, good.length - 3))).startsWith("corrupt binary example: ");
        assertThat(reasonFor(ExampleCodec.encode(new Example(new float[] {1, 2, 3}, 1))))
                .isEqualTo("has 3 features, the model takes 4");
        assertThat(reasonFor(ExampleCodec.encode(new Example(new float[] {1, 2, 3, 4}, 7))))
                .isEqualTo("label 7 is outside 0..2");
        assertThat(reasonFor(ExampleCodec.encode(new Example(new float[] {1, Float.NEGATIVE_INFINITY, 3, 4}, 0))))
                .isEqualTo("feature 1 is -Infinity");
    }

    /** Whatever arrives on the topic, the parser either returns a valid example or says why not. */
    @Test
    void noInputMakesItThrowAnythingButAMalformedExample() {
        byte[][] seeds = {
            ExampleFormat.BINARY.encode(new Example(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 2)),
            ExampleFormat.JSON.encode(new Example(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 2)),
            ExampleFormat.CSV.encode(new Example(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 2)),
        };
        RecordMutations mutations = new RecordMutations(11, seeds,
                utf8("0123456789.,-+eE{}[]\":labelfeaturesNaInfity \n\t\u00e9"), 3, 40);
        int refused = 0;
        for (int n = 0; n < 30_000; n++) {
            byte[] record = mutations.next();
            Throwable thrown = catchThrowable(() -> {
                Example example = parser.parse(record);
                assertThat(example.features()).hasSize(FEATURES);
                assertThat(example.label()).isBetween(0, 2);
                for (float f : example.features()) {
                    assertThat(Float.isFinite(f)).isTrue();
                }
            });
            if (thrown != null) {
                assertThat(thrown).as("input %s", Arrays.toString(record)).isInstanceOf(MalformedExampleException.class);
                assertThat(((MalformedExampleException) thrown).reason()).isNotBlank();
                refused++;
            }
        }
        assertThat(refused).as("most mutations are refused").isGreaterThan(15_000);
    }

    @Test
    void aParserNeedsASensibleShape() {
        assertThatThrownBy(() -> new ExampleParser(0, 10, 100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ExampleParser(10, 1, 100)).isInstanceOf(IllegalArgumentException.class);
    }

    private String reasonFor(byte[] record) {
        Throwable thrown = catchThrowable(() -> parser.parse(record));
        assertThat(thrown).as("refused").isInstanceOf(MalformedExampleException.class);
        return ((MalformedExampleException) thrown).reason();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
