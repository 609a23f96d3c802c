package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.LocalDateTime;

import org.junit.jupiter.api.Test;

class CategoricalFeatureTest {

    @Test
    void aColumnValueIsTheTextOfACategoricalColumn() {
        assertEquals(" LAX ", new CategoricalFeature.ColumnValue("origin", 0).valueOf(" LAX "));
    }

    @Test
    void wholeNumbersReadTheSameHoweverTheRecordSpellsThem() {
        var distance = new CategoricalFeature.ColumnValue("distance", 0);
        assertEquals("370", distance.valueOf(370.0));
        assertEquals("-2", distance.valueOf(-2.0));
        assertEquals("2.5", distance.valueOf(2.5));
        assertEquals("1.0E15", distance.valueOf(1e15), "too large to be sure it is whole");
    }

    @Test
    void aTimeColumnsValueIsItsIsoText() {
        assertEquals("2001-01-01T05:30",
                new CategoricalFeature.ColumnValue("date", 0).valueOf(LocalDateTime.of(2001, 1, 1, 5, 30)));
    }

    @Test
    void aTimePartIsItsNumber() {
        var dow = new CategoricalFeature.TimePart("dow", 0, TimeField.DAY_OF_WEEK);
        assertEquals("1", dow.valueOf(LocalDateTime.of(2001, 1, 1, 5, 30)));
    }

    @Test
    void aBucketIsTheIndexOfTheFirstBoundTheValueIsBelow() {
        var bucket = new CategoricalFeature.Bucket("distance_bucket", 0, new double[] {250, 500, 1000});
        assertEquals("0", bucket.valueOf(-1.0));
        assertEquals("0", bucket.valueOf(249.9));
        assertEquals("1", bucket.valueOf(250.0), "a bound belongs to the bucket above it");
        assertEquals("2", bucket.valueOf(999.0));
        assertEquals("3", bucket.valueOf(1e9), "above every bound: the number of bounds");
    }

    @Test
    void aBucketKeepsItsBoundsWhateverTheCallerDoesWithTheArray() {
        double[] bounds = {250, 500};
        var bucket = new CategoricalFeature.Bucket("distance_bucket", 0, bounds);
        bounds[0] = 1000;
        bucket.bounds()[1] = 0;
        assertEquals("1", bucket.valueOf(300.0));
        assertEquals(new CategoricalFeature.Bucket("distance_bucket", 0, new double[] {250, 500}), bucket);
    }
}
