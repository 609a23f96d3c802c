package io.streambelief.serving;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;

/**
 * A dense model's predict request: its rows, and whether they came in TF Serving's columnar
 * format ({@code {"inputs": [[...], ...]}}, answered with {@code outputs}) rather than the row
 * format ({@code {"instances": [[...], ...]}}, answered with {@code predictions}). The model has
 * one input tensor, so a named input ({@code {"x": [...]}} per instance,
 * {@code {"inputs": {"x": [[...]]}}}) is taken whatever its name.
 */
record DenseRequest(float[][] rows, boolean columnar) {
    /** NaN and Infinity are read so that they can be refused with a clear message. */
    private static final JsonFactory REQUEST_JSON =
            JsonFactory.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    /**
     * Reads {@code {"instances": [...]}} or {@code {"inputs": ...}}, checking every row against the
     * model: a row is an array of numbers, or an object with one named input holding one.
     */
    static DenseRequest read(byte[] body, int numInputs) {
        if (body.length == 0) {
            throw new HttpError(400, "empty request body; send {\"instances\": [[...], ...]}");
        }
        float[][] rows = null;
        boolean columnar = false;
        try (JsonParser json = REQUEST_JSON.createParser(body)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw new HttpError(400, "request must be a JSON object {\"instances\": [[...], ...]}");
            }
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                JsonToken value = json.nextToken();
                if (!"instances".equals(field) && !"inputs".equals(field)) {
                    json.skipChildren();
                    continue;
                }
                if (rows != null) {
                    throw new HttpError(400, "send either 'instances' (row format) or 'inputs' (columnar format), once");
                }
                columnar = "inputs".equals(field);
                boolean named = columnar && value == JsonToken.START_OBJECT;
                if (named) {
                    value = singleNamedInput(json, "inputs");
                }
                if (value != JsonToken.START_ARRAY) {
                    throw new HttpError(400, "'" + field + "' must be an array of rows");
                }
                rows = readRows(json, numInputs, field);
                if (named) {
                    endNamedInput(json, "inputs");
                }
            }
            if (json.nextToken() != null) {
                throw new HttpError(400, "unexpected content after the JSON object");
            }
        } catch (JsonParseException e) {
            throw new HttpError(400, "malformed JSON: " + e.getOriginalMessage());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new HttpError(400, "unreadable JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            // A body in memory has no other way to fail.
            throw new UncheckedIOException(e);
        }
        if (rows == null) {
            throw new HttpError(400, "missing 'instances'; send {\"instances\": [[...], ...]}");
        }
        if (rows.length == 0) {
            throw new HttpError(400, (columnar ? "'inputs'" : "'instances'") + " is empty");
        }
        return new DenseRequest(rows, columnar);
    }

    /**
     * Steps into an object that must name exactly one input (the model has one), and returns the
     * token of its value.
     */
    private static JsonToken singleNamedInput(JsonParser json, String where) throws IOException {
        if (json.nextToken() != JsonToken.FIELD_NAME) {
            throw new HttpError(400, where + " names no input; the model has one input");
        }
        return json.nextToken();
    }

    private static void endNamedInput(JsonParser json, String where) throws IOException {
        if (json.nextToken() != JsonToken.END_OBJECT) {
            throw new HttpError(400, where + " names more than one input; the model has one");
        }
    }

    private static float[][] readRows(JsonParser json, int numInputs, String field) throws IOException {
        float[][] rows = new float[16][];
        int count = 0;
        JsonToken token;
        while ((token = json.nextToken()) != JsonToken.END_ARRAY) {
            if (count == PredictEndpoint.MAX_INSTANCES) {
                throw new HttpError(413, "more than " + PredictEndpoint.MAX_INSTANCES
                        + " instances in one request; split it");
            }
            boolean named = token == JsonToken.START_OBJECT;
            if (named) {
                token = singleNamedInput(json, field + "[" + count + "]");
            }
            if (token != JsonToken.START_ARRAY) {
                throw new HttpError(400, field + "[" + count + "] must be an array of " + numInputs + " numbers");
            }
            float[] row = new float[numInputs];
            int n = 0;
            while ((token = json.nextToken()) != JsonToken.END_ARRAY) {
                if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
                    throw new HttpError(400, field + "[" + count + "][" + n + "] is not a number");
                }
                if (n == numInputs) {
                    throw new HttpError(400, field + "[" + count + "] has more than " + numInputs
                            + " values; the model takes " + numInputs);
                }
                float v = json.getFloatValue();
                if (!Float.isFinite(v)) {
                    throw new HttpError(400, field + "[" + count + "][" + n + "] is " + v + "; values must be finite");
                }
                row[n++] = v;
            }
            if (n != numInputs) {
                throw new HttpError(400, field + "[" + count + "] has " + n + " values; the model takes " + numInputs);
            }
            if (named) {
                endNamedInput(json, field + "[" + count + "]");
            }
            if (count == rows.length) {
                rows = Arrays.copyOf(rows, rows.length * 2);
            }
            rows[count++] = row;
        }
        return Arrays.copyOf(rows, count);
    }
}
