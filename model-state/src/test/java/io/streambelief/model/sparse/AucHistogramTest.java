package io.streambelief.model.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

class AucHistogramTest {

    @Test
    void matchesTheExactPairCountOnRandomScores() {
        Random random = new Random(3);
        double[] scores = new double[2000];
        int[] labels = new int[scores.length];
        AucHistogram histogram = new AucHistogram();
        for (int i = 0; i < scores.length; i++) {
            labels[i] = random.nextDouble() < 0.3 ? 1 : 0;
            scores[i] = Math.min(0.999, Math.max(0, random.nextGaussian() * 0.15 + 0.4 + 0.2 * labels[i]));
            histogram.add(scores[i], labels[i]);
        }
        double pairs = 0;
        double correct = 0;
        for (int i = 0; i < scores.length; i++) {
            for (int j = 0; j < scores.length; j++) {
                if (labels[i] == 1 && labels[j] == 0) {
                    pairs++;
                    correct += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }
        assertEquals(correct / pairs, histogram.auc(), 1e-3);
    }

    @Test
    void perfectRandomAndMergedHistograms() {
        AucHistogram a = new AucHistogram();
        a.add(0.9, 1);
        a.add(0.1, 0);
        assertEquals(1.0, a.auc());
        AucHistogram b = new AucHistogram();
        b.add(0.9, 0);
        b.add(0.1, 1);
        a.addAll(b);
        assertEquals(0.5, a.auc());
        assertEquals(4, a.count());
        assertTrue(Double.isNaN(new AucHistogram().auc()));
    }
}
