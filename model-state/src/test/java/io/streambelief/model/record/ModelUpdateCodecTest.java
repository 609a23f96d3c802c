package io.streambelief.model.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class ModelUpdateCodecTest {
    private static final ModelUpdate UPDATE = new ModelUpdate("fashion", "hospital-7", 12, 340, 1_250,
            1_796_000_000_000L, new float[] {0.5f, -1e-7f, 3e4f, 0});

    @Test
    void anUpdateReadsBackAsWritten() {
        assertThat(ModelUpdateCodec.decode(ModelUpdateCodec.encode(UPDATE))).isEqualTo(UPDATE);
    }

    @Test
    void anotherRecordTypeOrACorruptOneIsRefusedByName() {
        byte[] bytes = ModelUpdateCodec.encode(UPDATE);
        byte[] corrupt = Arrays.copyOf(bytes, bytes.length);
        corrupt[10] ^= 1;
        assertThatThrownBy(() -> ModelUpdateCodec.decode(corrupt)).isInstanceOf(RecordFormatException.class)
                .hasMessageContaining("ModelUpdate");
        byte[] other = ResidualCodec.encode(new float[] {1, 2});
        assertThatThrownBy(() -> ModelUpdateCodec.decode(other)).isInstanceOf(RecordFormatException.class)
                .hasMessageContaining("Not a ModelUpdate record");
    }

    @Test
    void anUpdateWithoutExamplesOrClientIsRefused() {
        assertThatThrownBy(() -> new ModelUpdate("m", "", 0, 0, 1, 0, new float[1]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ModelUpdate("m", "c", 0, 0, 0, 0, new float[1]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
