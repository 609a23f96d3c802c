package io.streambelief.kafka.sparse;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.model.sparse.FeatureHash;

/**
 * What the raw records of a sparse model look like and how they become a model's input: the
 * columns (name and type, in CSV order), the label rule, the categorical features (a column, or
 * a value derived from one), the numeric inputs, and the crosses. The same schema, through the
 * same {@link #features} method, turns a training record and a serving request into ids and
 * numbers, so training and serving cannot drift apart.
 *
 * <pre>{@code
 * {
 *   "columns": {"date": {"type": "time", "format": "MMddHHmm", "year": 2001},
 *               "delay": "numeric", "distance": "numeric", "origin": "categorical", "destination": "categorical"},
 *   "label": "delay > 15",
 *   "categorical": ["origin", "destination", "dow = day_of_week(date)", "dist = bucket(distance, 250, 500, 1000)"],
 *   "numeric": ["log_distance = log1p(distance)"],
 *   "crosses": ["origin x destination", "destination x dow"]
 * }
 * }</pre>
 *
 * <p>Column types ({@link Column}): {@code categorical} (any text), {@code numeric} (a finite number),
 * {@code time} (text in {@code format}, a {@link DateTimeFormatter} pattern, with {@code year}
 * when the format has none). Derivations ({@link CategoricalFeature}): {@code day_of_week},
 * {@code day_of_month}, {@code month}, {@code hour} of a time column; {@code bucket(column, b1, b2, ...)}
 * of a numeric one (the index of the first bound the value is below). Numeric inputs
 * ({@link NumericInput}): a column, {@code log1p(column)} (of |x|, signed) and {@code scale(column, factor)}.
 * Label rules ({@link LabelRule}): {@code column OP number} with OP one of {@code > >= < <= == !=},
 * or a bare column holding 0 or 1. {@link FeatureSchemaParser} reads the JSON.
 */
public final class FeatureSchema implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The bundled schema of the flights stream (vega-datasets' flights-3m.csv). */
    public static final String FLIGHTS_RESOURCE = "flights.schema.json";

    private final String source;
    private final String json;
    private final List<Column> columns;
    private final Set<String> columnNames;
    private final LabelRule label;
    private final List<CategoricalFeature> categoricals;
    private final List<NumericInput> numerics;
    private final List<Cross> crosses;

    FeatureSchema(String source, String json, List<Column> columns, LabelRule label,
            List<CategoricalFeature> categoricals, List<NumericInput> numerics, List<Cross> crosses) {
        this.source = source;
        this.json = json;
        this.columns = List.copyOf(columns);
        this.columnNames = columns.stream().map(Column::name).collect(Collectors.toUnmodifiableSet());
        this.label = label;
        this.categoricals = List.copyOf(categoricals);
        this.numerics = List.copyOf(numerics);
        this.crosses = List.copyOf(crosses);
    }

    /**
     * Parses a schema from its JSON text; {@code source} names it in messages. Throws
     * {@link IllegalArgumentException} saying what is wrong with a bad one.
     */
    public static FeatureSchema parse(String source, String json) {
        return FeatureSchemaParser.parse(source, json);
    }

    /** Reads a schema file, or the bundled {@code flights} schema for the name {@code flights}. */
    public static FeatureSchema load(String pathOrBundled) {
        if ("flights".equals(pathOrBundled)) {
            return bundled(FLIGHTS_RESOURCE);
        }
        Path path = Path.of(pathOrBundled);
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("Schema file " + path + " does not exist (or use the bundled 'flights')");
        }
        try {
            return parse(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read schema file " + path, e);
        }
    }

    static FeatureSchema bundled(String resource) {
        try (var in = FeatureSchema.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Bundled schema " + resource + " is missing from the jar");
            }
            return parse(resource, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String source() {
        return source;
    }

    /** The schema's JSON, as published next to the model so that serving reads it the same way. */
    public String json() {
        return json;
    }

    /** Columns in CSV order. */
    public List<String> columnNames() {
        return columns.stream().map(Column::name).toList();
    }

    public String labelColumn() {
        return columns.get(label.column()).name();
    }

    /** Slots: one id each — the categorical features, then the crosses. */
    public int slots() {
        return categoricals.size() + crosses.size();
    }

    public List<String> slotNames() {
        List<String> names = new ArrayList<>();
        categoricals.forEach(c -> names.add(c.name()));
        crosses.forEach(c -> names.add(c.name()));
        return names;
    }

    public int numerics() {
        return numerics.size();
    }

    /** What a record gives the model: one id per slot, the numeric inputs, and the label (-1 when it has none). */
    public record Features(long[] ids, float[] numerics, int label) {}

    /**
     * Derives the model's input from a record's raw values ({@code values.apply(column)}, null when
     * absent). The label column may be absent only when {@code needLabel} is false (a serving
     * request). Throws {@link MalformedExampleException} saying what is wrong.
     */
    public Features features(Function<String, String> values, boolean needLabel) {
        Object[] read = new Object[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            Column column = columns.get(i);
            String text = values.apply(column.name());
            if (text == null) {
                if (i == label.column() && !needLabel) {
                    continue;
                }
                throw new MalformedExampleException("missing field '" + column.name() + "'");
            }
            read[i] = column.read(text);
        }
        long[] ids = new long[slots()];
        String[] categoricalValues = new String[categoricals.size()];
        for (int s = 0; s < categoricals.size(); s++) {
            CategoricalFeature feature = categoricals.get(s);
            categoricalValues[s] = feature.valueOf(read[feature.column()]);
            ids[s] = FeatureHash.id(feature.name(), categoricalValues[s]);
        }
        for (int x = 0; x < crosses.size(); x++) {
            ids[categoricals.size() + x] = crosses.get(x).id(categoricalValues);
        }
        float[] numeric = new float[numerics.size()];
        for (int n = 0; n < numeric.length; n++) {
            NumericInput input = numerics.get(n);
            numeric[n] = (float) input.of((Double) read[input.column()]);
        }
        Object labelValue = read[label.column()];
        return new Features(ids, numeric, labelValue == null ? -1 : label.labelOf((Double) labelValue));
    }

    /** Whether {@code name} is one of the columns. */
    public boolean hasColumn(String name) {
        return columnNames.contains(name);
    }

    @Override
    public String toString() {
        return "schema " + source + " (" + slots() + " slots: " + String.join(", ", slotNames()) + "; " + numerics.size()
                + " numeric)";
    }
}
