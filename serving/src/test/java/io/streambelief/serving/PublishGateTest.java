package io.streambelief.serving;

import static org.assertj.core.api.Assertions.assertThat;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static io.streambelief.serving.ModelStoreTest.define;
import static io.streambelief.serving.ModelStoreTest.publishShard;

import org.junit.jupiter.api.Test;

import io.streambelief.model.record.ParamUpdate;

/** One bad stretch of data must not reach users; the server takes new versions again once training recovers. */
class PublishGateTest {
    private final PublishGate gate = new PublishGate(PublishGate.Settings.DEFAULTS);

    @Test
    void aJumpInTheProgressiveLossClosesTheGateUntilTheLossIsBack() {
        long t = report(0, 600, 0.5);
        assertThat(gate.isOpen("m")).as("ten minutes of steady training").isTrue();

        t = report(t, 40, 1.6);
        assertThat(gate.isOpen("m")).as("a bad stretch: over twice the loss of the ten minutes before").isFalse();
        PublishGate.State closed = gate.state("m").orElseThrow();
        assertThat(closed.pastLoss()).isEqualTo(0.5);
        assertThat(closed.recentLoss()).isCloseTo(1.6, org.assertj.core.data.Offset.offset(1e-9));

        t = report(t, 600, 1.6);
        assertThat(gate.isOpen("m")).as("the bad stretch does not become the new normal").isFalse();

        report(t, 40, 0.6);
        assertThat(gate.isOpen("m")).as("recovered").isTrue();
        assertThat(gate.state("m").orElseThrow().closures()).isEqualTo(1);
    }

    @Test
    void aModelWithTooLittlePastOrALossWithinTheBoundStaysOpen() {
        long t = report(0, 10, 0.5);
        report(t, 40, 5.0);
        assertThat(gate.isOpen("m")).as("ten seconds of past are not enough to judge by").isTrue();

        PublishGate other = new PublishGate(PublishGate.Settings.DEFAULTS);
        for (int s = 0; s < 640; s++) {
            other.observe("n", s * 1_000L, s < 600 ? 0.5 : 0.9);
        }
        assertThat(other.isOpen("n")).as("0.9 is within twice 0.5").isTrue();

        PublishGate off = new PublishGate(PublishGate.Settings.OFF);
        for (int s = 0; s < 640; s++) {
            off.observe("m", s * 1_000L, s < 600 ? 0.5 : 50);
        }
        assertThat(off.isOpen("m")).isTrue();
    }

    @Test
    void whileTheGateIsClosedTheStoreServesTheLastGoodVersionThenTheNewest() {
        ModelStore store = new ModelStore(ModelStore.Consistency.LATEST, null, gate);
        define(store, DEFINITION);
        publishShard(store, new ParamUpdate("m", 0, 1, 32, 1_000, new float[LAYOUT.length(0)]));
        store.publish();
        long good = store.get("m").orElseThrow().modelVersion();

        report(report(0, 600, 0.5), 40, 2.0);
        publishShard(store, new ParamUpdate("m", 0, 2, 64, 2_000, new float[LAYOUT.length(0)]));
        store.publish();
        assertThat(store.get("m").orElseThrow().modelVersion()).as("held").isEqualTo(good);

        report(700_000, 40, 0.5);
        store.publish();
        assertThat(store.get("m").orElseThrow().modelVersion()).as("the newest, once open").isEqualTo(2_000);
    }

    /** One report a second for {@code seconds} from {@code from} seconds; returns the next second. */
    private long report(long from, int seconds, double loss) {
        for (long s = from; s < from + seconds; s++) {
            gate.observe("m", s * 1_000, loss);
        }
        return from + seconds;
    }
}
