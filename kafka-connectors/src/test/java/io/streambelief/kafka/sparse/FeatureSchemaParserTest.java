package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.streambelief.model.sparse.FeatureHash;

class FeatureSchemaParserTest {
    private static final String COLUMNS = "\"columns\": {\"t\": {\"type\": \"time\", \"format\": \"MMddHHmm\", \"year\": 2001}, "
            + "\"x\": \"numeric\", \"y\": \"numeric\", \"c\": \"categorical\", \"d\": \"categorical\"}";

    @Test
    void featuresAndCrossesAreSlotsInDeclarationOrderNumericInputsAreNot() {
        FeatureSchema schema = FeatureSchemaParser.parse("test.json", "{" + COLUMNS + ", \"label\": \"y\", "
                + "\"categorical\": [\"c\", \" d \", \"h = hour(t)\", \"b = bucket(x, 10, 100)\"], "
                + "\"numeric\": [\"x\", \"lx = log1p(x)\", \"sx = scale(x, 0.5)\"], \"crosses\": [\"c x d\", \"d  x  h x b\"], "
                + "\"description\": \"ignored\"}");
        assertEquals(List.of("c", "d", "h", "b", "c_x_d", "d_x_h_x_b"), schema.slotNames());
        assertEquals(3, schema.numerics());
        assertEquals("y", schema.labelColumn());
        var features = schema.features(Map.of("t", "01010530", "x", "-50", "y", "1", "c", "a", "d", "b")::get, true);
        assertEquals(FeatureHash.id("h", "5"), features.ids()[2]);
        assertEquals(FeatureHash.id("b", "0"), features.ids()[3]);
        assertEquals(FeatureHash.cross("d_x_h_x_b", "b", "5", "0"), features.ids()[5]);
        assertEquals(List.of(-50f, (float) -Math.log1p(50), -25f),
                List.of(features.numerics()[0], features.numerics()[1], features.numerics()[2]));
        assertEquals(1, features.label());
    }

    @Test
    void aLabelRuleMayBeSpacedAsTheUserLikes() {
        for (String rule : List.of("y>=1", " y >= 1 ")) {
            FeatureSchema schema = FeatureSchemaParser.parse("test.json", "{" + COLUMNS + ", \"label\": \"" + rule
                    + "\", \"categorical\": [\"c\"]}");
            assertEquals(1, schema.features(Map.of("t", "01010530", "x", "0", "y", "1", "c", "a", "d", "b")::get, true).label());
        }
    }

    @Test
    void badSchemasSayWhatIsWrong() {
        assertMessage("is not JSON", "{columns");
        assertMessage("needs \"columns\"", "{\"label\": \"y\"}");
        assertMessage("unknown type 'text'", "{\"columns\": {\"a\": \"text\"}, \"label\": \"a\"}");
        assertMessage("names unknown column 'b'",
                "{\"columns\": {\"a\": \"categorical\", \"y\": \"numeric\"}, \"label\": \"y\", \"categorical\": [\"b\"]}");
        assertMessage("needs a numeric column, but 'a' is categorical",
                "{\"columns\": {\"a\": \"categorical\"}, \"label\": \"a > 1\", \"categorical\": [\"a\"]}");
        assertMessage("unknown function 'weekday'", "{\"columns\": {\"t\": {\"type\": \"time\", \"format\": \"HHmm\"}, "
                + "\"y\": \"numeric\"}, \"label\": \"y\", \"categorical\": [\"d = weekday(t)\"]}");
        assertMessage("not a categorical feature", "{\"columns\": {\"a\": \"categorical\", \"y\": \"numeric\"}, "
                + "\"label\": \"y\", \"categorical\": [\"a\"], \"crosses\": [\"a x c\"]}");
        assertMessage("no categorical features", "{\"columns\": {\"y\": \"numeric\"}, \"label\": \"y\"}");
        assertMessage("unknown key 'colums'", "{\"colums\": {}}");
    }

    @Test
    void badColumnsSayWhatToWriteInstead() {
        assertMessage("must be a JSON object with columns, label, categorical, numeric and crosses", "[]");
        assertMessage("column name 'a b' must be letters, digits and _", "{\"columns\": {\"a b\": \"numeric\"}}");
        assertMessage("time column 't' needs a \"format\", e.g. \"MMddHHmm\"", "{\"columns\": {\"t\": {\"type\": \"time\"}}}");
        assertMessage("time column 't' has a bad format 'qqqqqqq{'",
                "{\"columns\": {\"t\": {\"type\": \"time\", \"format\": \"qqqqqqq{\"}}}");
    }

    @Test
    void badLabelRulesSayWhatToWriteInstead() {
        assertMessage("needs a label rule, e.g. \"label\": \"delay > 15\"", "{" + COLUMNS + ", \"label\": 3}");
        assertMessage("label rule 'y >' is neither 'column OP number' nor a column name", "{" + COLUMNS + ", \"label\": \"y >\"}");
        assertMessage("the label rule's threshold 'q' is not a number", "{" + COLUMNS + ", \"label\": \"y > q\"}");
        assertMessage("the label needs a numeric column, but 'c' is categorical", "{" + COLUMNS + ", \"label\": \"c\"}");
    }

    @Test
    void badFeaturesSayWhatToWriteInstead() {
        assertFeatureMessage("categorical feature 'h' needs a time column, but 'x' is numeric", "\"categorical\": [\"h = hour(x)\"]");
        assertFeatureMessage("categorical feature 'h': hour takes one time column", "\"categorical\": [\"h = hour(t, 2)\"]");
        assertFeatureMessage("categorical feature 'b': bucket needs a numeric column and at least one bound",
                "\"categorical\": [\"b = bucket(x)\"]");
        assertFeatureMessage("categorical feature 'b''s bound 'a' is not a number", "\"categorical\": [\"b = bucket(x, a)\"]");
        assertFeatureMessage("(known: day_of_week, day_of_month, month, hour, bucket)", "\"categorical\": [\"w = weekday(t)\"]");
        assertFeatureMessage("categorical feature '= c' is neither a column nor 'name = function(column, ...)'",
                "\"categorical\": [\"= c\"]");
        assertFeatureMessage("numeric input 's': scale takes a column and a factor",
                "\"categorical\": [\"c\"], \"numeric\": [\"s = scale(x)\"]");
        assertFeatureMessage("numeric input 'e' uses unknown function 'exp' (known: log1p, scale)",
                "\"categorical\": [\"c\"], \"numeric\": [\"e = exp(x)\"]");
        assertFeatureMessage("numeric input 'e' names unknown column 'q'", "\"categorical\": [\"c\"], \"numeric\": [\"e = exp(q)\"]");
        assertFeatureMessage("cross 'c' must name two or more categorical features", "\"categorical\": [\"c\"], \"crosses\": [\"c\"]");
        assertFeatureMessage("names 'c' twice", "\"categorical\": [\"c\", \"d\"], \"numeric\": [\"c = log1p(x)\"]");
    }

    @Test
    void aListThatIsNoListIsRejected() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> FeatureSchemaParser.parse("test.json", "{" + COLUMNS + ", \"label\": \"y\", \"categorical\": \"c\"}"));
        assertEquals("\"categorical\" must be a list of strings", e.getMessage());
    }

    private static void assertFeatureMessage(String expected, String features) {
        assertMessage(expected, "{" + COLUMNS + ", \"label\": \"y\", " + features + "}");
    }

    private static void assertMessage(String expected, String json) {
        var e = assertThrows(IllegalArgumentException.class, () -> FeatureSchema.parse("test.json", json));
        assertTrue(e.getMessage().startsWith("Schema test.json "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
