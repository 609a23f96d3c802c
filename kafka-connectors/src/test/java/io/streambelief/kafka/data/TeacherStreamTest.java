package io.streambelief.kafka.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.optimizer.Optimizer;

class TeacherStreamTest {

    @Test
    void aSpecGivesTheSameExamplesEveryTime() {
        ExampleSet once = TeacherStream.generate("teacher:50-4:300");

        assertThat(once.examples()).isEqualTo(TeacherStream.generate("teacher:50-4:300").examples());
        assertThat(once.size()).isEqualTo(300);
        assertThat(once.numFeatures()).isEqualTo(50);
        assertThat(once.numLabels()).isEqualTo(4);
        for (Example example : once.examples()) {
            for (float f : example.features()) {
                assertThat(f).isBetween(0f, 1f);
            }
        }
    }

    @Test
    void everyClassOccursAndNoneTakesAll() {
        int[] counts = new int[10];
        TeacherStream.generate("teacher:784-10:5000").examples().forEach(e -> counts[e.label()]++);

        for (int count : counts) {
            assertThat(count).isBetween(50, 2_500);
        }
    }

    /** The point of a teacher: its labels are a function a student network can learn. */
    @Test
    void aStudentMlpLearnsTheTeacherFarAboveChance() {
        ExampleSet data = TeacherStream.generate("teacher:20-4:12000");
        ModelSpec student = ModelSpec.parse("mlp:20-64-4", 3);

        MultiLayerNetwork trained = Dl4jBaseline.train(student, Optimizer.adam(0.01),
                data.examples().subList(0, 10_000), 32);

        // Chance is at most the largest class's share, well under 0.6 here.
        assertThat(Dl4jBaseline.accuracy(trained, student, data.examples().subList(10_000, 12_000)))
                .isGreaterThan(0.8);
    }

    @Test
    void itIsWhatDataSetsLoadsForATeacherSpec() throws Exception {
        assertThat(DataSets.load(Path.of("teacher:8-3:10")).examples())
                .isEqualTo(TeacherStream.generate(8, 3, 10, TeacherStream.SEED).examples());
        assertThatThrownBy(() -> TeacherStream.generate("teacher:8"))
                .hasMessageContaining("use teacher:<inputs>-<classes>[:<examples>]");
        assertThatThrownBy(() -> TeacherStream.generate("teacher:8-1")).hasMessageContaining("2 classes");
    }

    @Test
    void wideTeachersAreQuickToGenerate() {
        long start = System.nanoTime();
        ExampleSet wide = TeacherStream.generate("teacher:4096-10:2000");

        assertThat(wide.examples().get(0)).isInstanceOf(Example.class);
        assertThat(wide.numFeatures()).isEqualTo(4096);
        assertThat((System.nanoTime() - start) / 1e9).as("seconds, generous for a loaded CI box").isLessThan(30);
    }
}
