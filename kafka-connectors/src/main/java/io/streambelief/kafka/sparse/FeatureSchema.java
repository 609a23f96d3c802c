package io.streambelief.kafka.sparse;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

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
 * <p>Column types: {@code categorical} (any text), {@code numeric} (a finite number),
 * {@code time} (text in {@code format}, a {@link DateTimeFormatter} pattern, with {@code year}
 * when the format has none). Derivations: {@code day_of_week}, {@code day_of_month}, {@code month},
 * {@code hour} of a time column; {@code bucket(column, b1, b2, ...)} of a numeric one (the index
 * of the first bound the value is below); numeric {@code log1p(column)} (of |x|, signed) and
 * {@code scale(column, factor)}. Label rules: {@code column OP number} with OP one of
 * {@code > >= < <= == !=}, or a bare column holding 0 or 1.
 */
public final class FeatureSchema implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DERIVED = Pattern.compile("\\s*([A-Za-z_][\\w]*)\\s*=\\s*([a-z_0-9]+)\\s*\\((.*)\\)\\s*");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][\\w]*");
    private static final Pattern RULE = Pattern.compile("\\s*([A-Za-z_][\\w]*)\\s*(>=|<=|==|!=|>|<)\\s*(\\S+)\\s*");

    /** The bundled schema of the flights stream (vega-datasets' flights-3m.csv). */
    public static final String FLIGHTS_RESOURCE = "flights.schema.json";

    enum Type { CATEGORICAL, NUMERIC, TIME }

    record Column(String name, Type type, String format, Integer year) implements Serializable {}

    /** A categorical slot: a column's value, or a value derived from it; {@code args} are the derivation's numbers. */
    record Categorical(String name, String column, String derivation, double[] args) implements Serializable {}

    record Numeric(String name, String column, String transform, double arg) implements Serializable {}

    record Cross(String name, int[] parts) implements Serializable {}

    private final String source;
    private final String json;
    private final List<Column> columns;
    private final Map<String, Integer> columnIndex = new LinkedHashMap<>();
    private final int labelColumn;
    private final String labelOp;
    private final double labelThreshold;
    private final List<Categorical> categoricals;
    private final List<Numeric> numerics;
    private final List<Cross> crosses;
    private transient DateTimeFormatter[] formats;

    private FeatureSchema(String source, String json) {
        this.source = source;
        this.json = json;
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw bad("is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad("must be a JSON object with columns, label, categorical, numeric and crosses");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
            String key = it.next();
            if (!List.of("columns", "label", "categorical", "numeric", "crosses", "description").contains(key)) {
                throw bad("has an unknown key '" + key + "' (known: columns, label, categorical, numeric, crosses, description)");
            }
        }
        this.columns = parseColumns(root.get("columns"));
        for (int i = 0; i < columns.size(); i++) {
            columnIndex.put(columns.get(i).name(), i);
        }
        JsonNode label = root.get("label");
        if (label == null || !label.isTextual()) {
            throw bad("needs a label rule, e.g. \"label\": \"delay > 15\" or \"label\": \"clicked\"");
        }
        Matcher rule = RULE.matcher(label.asText());
        if (rule.matches()) {
            labelColumn = column(rule.group(1), Type.NUMERIC, "the label rule");
            labelOp = rule.group(2);
            labelThreshold = number(rule.group(3), "the label rule's threshold");
        } else if (NAME.matcher(label.asText().strip()).matches()) {
            labelColumn = column(label.asText().strip(), Type.NUMERIC, "the label");
            labelOp = null;
            labelThreshold = 0;
        } else {
            throw bad("label rule '" + label.asText() + "' is neither 'column OP number' nor a column name");
        }
        this.categoricals = new ArrayList<>();
        for (String text : strings(root, "categorical")) {
            categoricals.add(parseCategorical(text));
        }
        if (categoricals.isEmpty()) {
            throw bad("declares no categorical features: a sparse model needs at least one");
        }
        this.numerics = new ArrayList<>();
        for (String text : strings(root, "numeric")) {
            numerics.add(parseNumeric(text));
        }
        this.crosses = new ArrayList<>();
        for (String text : strings(root, "crosses")) {
            crosses.add(parseCross(text));
        }
        List<String> names = new ArrayList<>();
        categoricals.forEach(c -> names.add(c.name()));
        crosses.forEach(c -> names.add(c.name()));
        numerics.forEach(n -> names.add(n.name()));
        for (String name : names) {
            if (names.indexOf(name) != names.lastIndexOf(name)) {
                throw bad("names '" + name + "' twice");
            }
        }
    }

    /** Parses a schema from its JSON text; {@code source} names it in messages. */
    public static FeatureSchema parse(String source, String json) {
        return new FeatureSchema(source, json);
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
        return columns.get(labelColumn).name();
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
        Object[] parsed = new Object[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            Column column = columns.get(i);
            String text = values.apply(column.name());
            if (text == null) {
                if (i == labelColumn && !needLabel) {
                    continue;
                }
                throw new MalformedExampleException("missing field '" + column.name() + "'");
            }
            parsed[i] = typed(column, i, text);
        }
        long[] ids = new long[slots()];
        String[] slotValues = new String[categoricals.size()];
        for (int s = 0; s < categoricals.size(); s++) {
            Categorical c = categoricals.get(s);
            slotValues[s] = derive(c, parsed[columnIndex.get(c.column())]);
            ids[s] = FeatureHash.id(c.name(), slotValues[s]);
        }
        for (int x = 0; x < crosses.size(); x++) {
            Cross cross = crosses.get(x);
            String[] parts = new String[cross.parts().length];
            for (int p = 0; p < parts.length; p++) {
                parts[p] = slotValues[cross.parts()[p]];
            }
            ids[categoricals.size() + x] = FeatureHash.cross(cross.name(), parts);
        }
        float[] numeric = new float[numerics.size()];
        for (int n = 0; n < numeric.length; n++) {
            Numeric spec = numerics.get(n);
            double x = (Double) parsed[columnIndex.get(spec.column())];
            numeric[n] = (float) switch (spec.transform()) {
                case "log1p" -> Math.signum(x) * Math.log1p(Math.abs(x));
                case "scale" -> x * spec.arg();
                default -> x;
            };
        }
        int label = -1;
        if (parsed[labelColumn] != null) {
            double y = (Double) parsed[labelColumn];
            if (labelOp == null) {
                if (y != 0 && y != 1) {
                    throw new MalformedExampleException("label '" + labelColumn() + "' is " + y + ", not 0 or 1");
                }
                label = (int) y;
            } else {
                boolean positive = switch (labelOp) {
                    case ">" -> y > labelThreshold;
                    case ">=" -> y >= labelThreshold;
                    case "<" -> y < labelThreshold;
                    case "<=" -> y <= labelThreshold;
                    case "==" -> y == labelThreshold;
                    default -> y != labelThreshold;
                };
                label = positive ? 1 : 0;
            }
        }
        return new Features(ids, numeric, label);
    }

    /** Whether {@code name} is one of the columns. */
    public boolean hasColumn(String name) {
        return columnIndex.containsKey(name);
    }

    private Object typed(Column column, int index, String text) {
        switch (column.type()) {
            case NUMERIC -> {
                double value;
                try {
                    value = Double.parseDouble(text.strip());
                } catch (NumberFormatException e) {
                    throw new MalformedExampleException("field '" + column.name() + "' is not a number: '" + clip(text) + "'");
                }
                if (!Double.isFinite(value)) {
                    throw new MalformedExampleException("field '" + column.name() + "' is not finite: " + clip(text));
                }
                return value;
            }
            case TIME -> {
                try {
                    return LocalDateTime.parse(text.strip(), formats()[index]);
                } catch (DateTimeParseException e) {
                    throw new MalformedExampleException("field '" + column.name() + "' is not a time in format "
                            + column.format() + ": '" + clip(text) + "'");
                }
            }
            default -> {
                return text;
            }
        }
    }

    private static String derive(Categorical c, Object value) {
        if (c.derivation() == null) {
            return value instanceof Double d ? number(d) : value.toString();
        }
        return switch (c.derivation()) {
            case "day_of_week" -> Integer.toString(((LocalDateTime) value).getDayOfWeek().getValue());
            case "day_of_month" -> Integer.toString(((LocalDateTime) value).getDayOfMonth());
            case "month" -> Integer.toString(((LocalDateTime) value).getMonthValue());
            case "hour" -> Integer.toString(((LocalDateTime) value).getHour());
            case "bucket" -> {
                double x = (Double) value;
                int bucket = 0;
                while (bucket < c.args().length && x >= c.args()[bucket]) {
                    bucket++;
                }
                yield Integer.toString(bucket);
            }
            default -> throw new IllegalStateException(c.derivation());
        };
    }

    private static String number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    private DateTimeFormatter[] formats() {
        if (formats == null) {
            DateTimeFormatter[] built = new DateTimeFormatter[columns.size()];
            for (int i = 0; i < columns.size(); i++) {
                Column column = columns.get(i);
                if (column.type() == Type.TIME) {
                    built[i] = timeFormat(column);
                }
            }
            formats = built;
        }
        return formats;
    }

    private static DateTimeFormatter timeFormat(Column column) {
        DateTimeFormatterBuilder builder = new DateTimeFormatterBuilder().appendPattern(column.format());
        if (column.year() != null) {
            builder.parseDefaulting(ChronoField.YEAR, column.year());
        }
        return builder.parseDefaulting(ChronoField.HOUR_OF_DAY, 0).parseDefaulting(ChronoField.MINUTE_OF_HOUR, 0)
                .toFormatter(Locale.ROOT);
    }

    private List<Column> parseColumns(JsonNode node) {
        if (node == null || !node.isObject() || node.isEmpty()) {
            throw bad("needs \"columns\": an object of column name to type, in CSV order");
        }
        List<Column> parsed = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> entry = it.next();
            String name = entry.getKey();
            if (!NAME.matcher(name).matches()) {
                throw bad("column name '" + name + "' must be letters, digits and _");
            }
            JsonNode spec = entry.getValue();
            String type = spec.isTextual() ? spec.asText() : spec.path("type").asText("");
            Column column = switch (type) {
                case "categorical" -> new Column(name, Type.CATEGORICAL, null, null);
                case "numeric" -> new Column(name, Type.NUMERIC, null, null);
                case "time" -> {
                    String format = spec.path("format").asText("");
                    if (format.isEmpty()) {
                        throw bad("time column '" + name + "' needs a \"format\", e.g. \"MMddHHmm\"");
                    }
                    Integer year = spec.has("year") ? spec.get("year").asInt() : null;
                    Column time = new Column(name, Type.TIME, format, year);
                    try {
                        timeFormat(time);
                    } catch (IllegalArgumentException e) {
                        throw bad("time column '" + name + "' has a bad format '" + format + "': " + e.getMessage());
                    }
                    yield time;
                }
                default -> throw bad("column '" + name + "' has unknown type '" + type
                        + "' (use categorical, numeric, or {\"type\": \"time\", \"format\": ...})");
            };
            parsed.add(column);
        }
        return parsed;
    }

    private Categorical parseCategorical(String text) {
        if (NAME.matcher(text.strip()).matches()) {
            String name = text.strip();
            column(name, null, "categorical feature '" + name + "'");
            return new Categorical(name, name, null, new double[0]);
        }
        Matcher m = DERIVED.matcher(text);
        if (!m.matches()) {
            throw bad("categorical feature '" + text + "' is neither a column nor 'name = function(column, ...)'");
        }
        String function = m.group(2);
        String[] args = m.group(3).split(",");
        String columnName = args[0].strip();
        String what = "categorical feature '" + m.group(1) + "'";
        switch (function) {
            case "day_of_week", "day_of_month", "month", "hour" -> {
                column(columnName, Type.TIME, what);
                if (args.length != 1) {
                    throw bad(what + ": " + function + " takes one time column");
                }
            }
            case "bucket" -> {
                column(columnName, Type.NUMERIC, what);
                if (args.length < 2) {
                    throw bad(what + ": bucket needs a numeric column and at least one bound");
                }
            }
            default -> throw bad(what + " uses unknown function '" + function
                    + "' (known: day_of_week, day_of_month, month, hour, bucket)");
        }
        double[] bounds = new double[args.length - 1];
        for (int i = 1; i < args.length; i++) {
            bounds[i - 1] = number(args[i].strip(), what + "'s bound");
        }
        return new Categorical(m.group(1), columnName, function, bounds);
    }

    private Numeric parseNumeric(String text) {
        if (NAME.matcher(text.strip()).matches()) {
            column(text.strip(), Type.NUMERIC, "numeric input '" + text.strip() + "'");
            return new Numeric(text.strip(), text.strip(), "identity", 0);
        }
        Matcher m = DERIVED.matcher(text);
        if (!m.matches()) {
            throw bad("numeric input '" + text + "' is neither a column nor 'name = log1p(column)' / 'scale(column, f)'");
        }
        String[] args = m.group(3).split(",");
        String what = "numeric input '" + m.group(1) + "'";
        column(args[0].strip(), Type.NUMERIC, what);
        return switch (m.group(2)) {
            case "log1p" -> new Numeric(m.group(1), args[0].strip(), "log1p", 0);
            case "scale" -> {
                if (args.length != 2) {
                    throw bad(what + ": scale takes a column and a factor");
                }
                yield new Numeric(m.group(1), args[0].strip(), "scale", number(args[1].strip(), what + "'s factor"));
            }
            default -> throw bad(what + " uses unknown function '" + m.group(2) + "' (known: log1p, scale)");
        };
    }

    private Cross parseCross(String text) {
        String[] names = text.split("\\s+x\\s+");
        if (names.length < 2) {
            throw bad("cross '" + text + "' must name two or more categorical features, e.g. \"origin x destination\"");
        }
        int[] parts = new int[names.length];
        for (int p = 0; p < names.length; p++) {
            String name = names[p].strip();
            parts[p] = -1;
            for (int s = 0; s < categoricals.size(); s++) {
                if (categoricals.get(s).name().equals(name)) {
                    parts[p] = s;
                }
            }
            if (parts[p] < 0) {
                throw bad("cross '" + text + "' names '" + name + "', which is not a categorical feature");
            }
        }
        return new Cross(String.join("_x_", names).replace(" ", ""), parts);
    }

    /** The index of a declared column, of the given type (null: any type). */
    private int column(String name, Type type, String what) {
        Integer index = columnIndex.get(name);
        if (index == null) {
            throw bad(what + " names unknown column '" + name + "' (columns: " + String.join(", ", columnIndex.keySet()) + ")");
        }
        if (type != null && columns.get(index).type() != type) {
            throw bad(what + " needs a " + type.name().toLowerCase(Locale.ROOT) + " column, but '" + name + "' is "
                    + columns.get(index).type().name().toLowerCase(Locale.ROOT));
        }
        return index;
    }

    private double number(String text, String what) {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw bad(what + " '" + text + "' is not a number");
        }
    }

    private static List<String> strings(JsonNode root, String key) {
        JsonNode node = root.get(key);
        List<String> values = new ArrayList<>();
        if (node == null) {
            return values;
        }
        if (!node.isArray()) {
            throw new IllegalArgumentException("\"" + key + "\" must be a list of strings");
        }
        node.forEach(item -> values.add(item.asText()));
        return values;
    }

    private static String clip(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }

    private IllegalArgumentException bad(String what) {
        return new IllegalArgumentException("Schema " + source + " " + what);
    }

    @Override
    public String toString() {
        return "schema " + source + " (" + slots() + " slots: " + String.join(", ", slotNames()) + "; " + numerics.size()
                + " numeric)";
    }
}
