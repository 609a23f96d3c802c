package io.streambelief.kafka.example;

import java.io.IOException;
import java.util.Arrays;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;

import io.streambelief.model.Example;
import io.streambelief.model.record.ExampleCodec;
import io.streambelief.model.record.RecordFormatException;

/**
 * Reads one record of the examples topic, whichever of the three formats it is in — compact
 * binary ({@link ExampleCodec}), JSON {@code {"features":[...],"label":k}} or CSV
 * {@code label,f1,...,fn} — and checks it against the model: feature count, finite features,
 * label range, size. Anything else is a {@link MalformedExampleException} with a short reason;
 * no input makes it throw anything else.
 *
 * <p>Not thread-safe (it reuses a buffer); one per operator subtask.
 */
public final class ExampleParser {
    /** Records larger than this are refused by default. */
    public static final int DEFAULT_MAX_BYTES = 1 << 20;

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private final int numFeatures;
    private final int numLabels;
    private final int maxBytes;

    public ExampleParser(int numFeatures, int numLabels, int maxBytes) {
        if (numFeatures < 1 || numLabels < 2 || maxBytes < 1) {
            throw new IllegalArgumentException("An example parser needs features >= 1, labels >= 2 and a positive "
                    + "size limit; got " + numFeatures + ", " + numLabels + ", " + maxBytes);
        }
        this.numFeatures = numFeatures;
        this.numLabels = numLabels;
        this.maxBytes = maxBytes;
    }

    public Example parse(byte[] value) {
        if (value == null || value.length == 0) {
            throw new MalformedExampleException("empty record");
        }
        if (value.length > maxBytes) {
            throw new MalformedExampleException("record is " + value.length + " bytes, the limit is " + maxBytes);
        }
        Example example;
        if (ExampleCodec.looksLikeBinary(value)) {
            try {
                example = ExampleCodec.decode(value);
            } catch (RecordFormatException e) {
                throw new MalformedExampleException("corrupt binary example: " + e.getMessage());
            }
            checkFeatures(example.features(), example.features().length);
            checkLabel(example.label());
            return example;
        }
        int first = 0;
        while (first < value.length && isWhitespace(value[first])) {
            first++;
        }
        if (first == value.length) {
            throw new MalformedExampleException("empty record");
        }
        return value[first] == '{' ? parseJson(value) : parseCsv(value, first);
    }

    private Example parseJson(byte[] value) {
        float[] features = null;
        int count = 0;
        Integer label = null;
        try (JsonParser json = JSON.createParser(value)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedExampleException("not JSON: expected an object");
            }
            JsonToken token;
            while ((token = json.nextToken()) == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                JsonToken fieldValue = json.nextToken();
                if ("features".equals(field)) {
                    if (fieldValue != JsonToken.START_ARRAY) {
                        throw new MalformedExampleException("'features' is not an array");
                    }
                    features = new float[numFeatures];
                    while ((token = json.nextToken()) != JsonToken.END_ARRAY) {
                        if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
                            throw new MalformedExampleException("feature " + count + " is not a number");
                        }
                        if (count == features.length) {
                            features = Arrays.copyOf(features, features.length * 2);
                        }
                        features[count++] = json.getFloatValue();
                    }
                } else if ("label".equals(field)) {
                    if (fieldValue != JsonToken.VALUE_NUMBER_INT) {
                        throw new MalformedExampleException("'label' is not an integer");
                    }
                    label = labelValue(json.getText());
                } else {
                    json.skipChildren();
                }
            }
            if (token != JsonToken.END_OBJECT) {
                throw new MalformedExampleException("not JSON: unexpected " + token);
            }
            if (json.nextToken() != null) {
                throw new MalformedExampleException("not JSON: content after the object");
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof MalformedExampleException malformed) {
                throw malformed;
            }
            throw new MalformedExampleException("not JSON: " + firstLine(e.getMessage()));
        }
        if (features == null) {
            throw new MalformedExampleException("missing 'features'");
        }
        if (label == null) {
            throw new MalformedExampleException("missing 'label'");
        }
        checkFeatures(features, count);
        checkLabel(label);
        return new Example(count == features.length ? features : Arrays.copyOf(features, count), label);
    }

    private Example parseCsv(byte[] value, int start) {
        int end = value.length;
        while (end > start && isWhitespace(value[end - 1])) {
            end--;
        }
        for (int i = start; i < end; i++) {
            if (value[i] == '\n') {
                throw new MalformedExampleException("CSV record has more than one line");
            }
        }
        int comma = indexOf(value, (byte) ',', start, end);
        String labelText = text(value, start, comma < 0 ? end : comma).strip();
        int label;
        try {
            label = labelValue(labelText);
        } catch (MalformedExampleException e) {
            throw new MalformedExampleException("CSV label '" + abbreviate(labelText) + "' is not an integer");
        }
        float[] features = new float[numFeatures];
        int count = 0;
        int fieldStart = comma + 1;
        while (comma >= 0) {
            comma = indexOf(value, (byte) ',', fieldStart, end);
            int fieldEnd = comma < 0 ? end : comma;
            if (count == features.length) {
                features = Arrays.copyOf(features, features.length * 2);
            }
            features[count] = CsvNumbers.parseFloat(value, fieldStart, fieldEnd, count + 1);
            count++;
            fieldStart = fieldEnd + 1;
        }
        checkFeatures(features, count);
        checkLabel(label);
        return new Example(count == features.length ? features : Arrays.copyOf(features, count), label);
    }

    private void checkFeatures(float[] features, int count) {
        if (count != numFeatures) {
            throw new MalformedExampleException("has " + count + " features, the model takes " + numFeatures);
        }
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(features[i])) {
                throw new MalformedExampleException("feature " + i + " is " + features[i]);
            }
        }
    }

    private void checkLabel(int label) {
        if (label < 0 || label >= numLabels) {
            throw new MalformedExampleException("label " + label + " is outside 0.." + (numLabels - 1));
        }
    }

    private static int labelValue(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new MalformedExampleException("'label' is not an integer");
        }
    }

    private static boolean isWhitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    private static int indexOf(byte[] value, byte b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (value[i] == b) {
                return i;
            }
        }
        return -1;
    }

    static String text(byte[] value, int from, int to) {
        return new String(value, from, to - from, java.nio.charset.StandardCharsets.UTF_8);
    }

    static String abbreviate(String s) {
        return s.length() <= 20 ? s : s.substring(0, 20) + "...";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
