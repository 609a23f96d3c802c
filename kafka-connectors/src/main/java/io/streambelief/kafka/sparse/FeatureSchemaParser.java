package io.streambelief.kafka.sparse;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads a schema's JSON (see {@link FeatureSchema} for the language) into typed columns, label
 * rule, features and crosses, checking every name and type on the way. A bad definition fails here,
 * once, with an {@link IllegalArgumentException} that starts {@code "Schema <source> "} and says what
 * to write instead, rather than on the first record. One parser reads one schema.
 */
final class FeatureSchemaParser {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DERIVED = Pattern.compile("\\s*([A-Za-z_][\\w]*)\\s*=\\s*([a-z_0-9]+)\\s*\\((.*)\\)\\s*");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][\\w]*");
    private static final Pattern RULE = Pattern.compile("\\s*([A-Za-z_][\\w]*)\\s*(>=|<=|==|!=|>|<)\\s*(\\S+)\\s*");
    private static final List<String> KEYS = List.of("columns", "label", "categorical", "numeric", "crosses", "description");

    private final String source;
    private final List<Column> columns = new ArrayList<>();
    private final Map<String, Integer> columnIndex = new LinkedHashMap<>();
    private final List<CategoricalFeature> categoricals = new ArrayList<>();

    private FeatureSchemaParser(String source) {
        this.source = source;
    }

    /** The schema that {@code json} defines; {@code source} names it in messages. */
    static FeatureSchema parse(String source, String json) {
        return new FeatureSchemaParser(source).schema(json);
    }

    private FeatureSchema schema(String json) {
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
            if (!KEYS.contains(key)) {
                throw bad("has an unknown key '" + key + "' (known: " + String.join(", ", KEYS) + ")");
            }
        }
        columns(root.get("columns"));
        LabelRule label = label(root.get("label"));
        for (String text : strings(root, "categorical")) {
            categoricals.add(categorical(text));
        }
        if (categoricals.isEmpty()) {
            throw bad("declares no categorical features: a sparse model needs at least one");
        }
        List<NumericInput> numerics = new ArrayList<>();
        for (String text : strings(root, "numeric")) {
            numerics.add(numeric(text));
        }
        List<Cross> crosses = new ArrayList<>();
        for (String text : strings(root, "crosses")) {
            crosses.add(cross(text));
        }
        // Slot ids hash the slot's name: two slots of one name would share their ids.
        List<String> names = Stream.of(categoricals.stream().map(CategoricalFeature::name),
                crosses.stream().map(Cross::name), numerics.stream().map(NumericInput::name)).flatMap(s -> s).toList();
        for (String name : names) {
            if (names.indexOf(name) != names.lastIndexOf(name)) {
                throw bad("names '" + name + "' twice");
            }
        }
        return new FeatureSchema(source, json, columns, label, categoricals, numerics, crosses);
    }

    private void columns(JsonNode node) {
        if (node == null || !node.isObject() || node.isEmpty()) {
            throw bad("needs \"columns\": an object of column name to type, in CSV order");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> entry = it.next();
            String name = entry.getKey();
            if (!NAME.matcher(name).matches()) {
                throw bad("column name '" + name + "' must be letters, digits and _");
            }
            JsonNode spec = entry.getValue();
            String type = spec.isTextual() ? spec.asText() : spec.path("type").asText("");
            Column column = switch (type) {
                case "categorical" -> new Column.Categorical(name);
                case "numeric" -> new Column.Numeric(name);
                case "time" -> new Column.Time(name, timeFormat(name, spec));
                default -> throw bad("column '" + name + "' has unknown type '" + type
                        + "' (use categorical, numeric, or {\"type\": \"time\", \"format\": ...})");
            };
            columnIndex.put(name, columns.size());
            columns.add(column);
        }
    }

    private TimeFormat timeFormat(String column, JsonNode spec) {
        String pattern = spec.path("format").asText("");
        if (pattern.isEmpty()) {
            throw bad("time column '" + column + "' needs a \"format\", e.g. \"MMddHHmm\"");
        }
        Integer year = spec.has("year") ? spec.get("year").asInt() : null;
        try {
            return new TimeFormat(pattern, year);
        } catch (IllegalArgumentException e) {
            throw bad("time column '" + column + "' has a bad format '" + pattern + "': " + e.getMessage());
        }
    }

    private LabelRule label(JsonNode node) {
        if (node == null || !node.isTextual()) {
            throw bad("needs a label rule, e.g. \"label\": \"delay > 15\" or \"label\": \"clicked\"");
        }
        String text = node.asText();
        Matcher rule = RULE.matcher(text);
        if (rule.matches()) {
            int column = column(rule.group(1), Column.Numeric.class, "the label rule");
            return new LabelRule.Threshold(column, Comparison.of(rule.group(2)),
                    number(rule.group(3), "the label rule's threshold"));
        }
        if (NAME.matcher(text.strip()).matches()) {
            String name = text.strip();
            return new LabelRule.Flag(column(name, Column.Numeric.class, "the label"), name);
        }
        throw bad("label rule '" + text + "' is neither 'column OP number' nor a column name");
    }

    private CategoricalFeature categorical(String text) {
        if (NAME.matcher(text.strip()).matches()) {
            String name = text.strip();
            return new CategoricalFeature.ColumnValue(name, column(name, Column.class, "categorical feature '" + name + "'"));
        }
        Matcher m = DERIVED.matcher(text);
        if (!m.matches()) {
            throw bad("categorical feature '" + text + "' is neither a column nor 'name = function(column, ...)'");
        }
        String name = m.group(1);
        String function = m.group(2);
        String[] args = m.group(3).split(",");
        String what = "categorical feature '" + name + "'";
        Optional<TimeField> field = TimeField.named(function);
        if (field.isPresent()) {
            int column = column(args[0].strip(), Column.Time.class, what);
            if (args.length != 1) {
                throw bad(what + ": " + function + " takes one time column");
            }
            return new CategoricalFeature.TimePart(name, column, field.get());
        }
        if (function.equals("bucket")) {
            int column = column(args[0].strip(), Column.Numeric.class, what);
            if (args.length < 2) {
                throw bad(what + ": bucket needs a numeric column and at least one bound");
            }
            double[] bounds = new double[args.length - 1];
            for (int i = 1; i < args.length; i++) {
                bounds[i - 1] = number(args[i].strip(), what + "'s bound");
            }
            return new CategoricalFeature.Bucket(name, column, bounds);
        }
        String known = Stream.concat(Stream.of(TimeField.values()).map(TimeField::function), Stream.of("bucket"))
                .collect(Collectors.joining(", "));
        throw bad(what + " uses unknown function '" + function + "' (known: " + known + ")");
    }

    private NumericInput numeric(String text) {
        if (NAME.matcher(text.strip()).matches()) {
            String name = text.strip();
            return new NumericInput.Value(name, column(name, Column.Numeric.class, "numeric input '" + name + "'"));
        }
        Matcher m = DERIVED.matcher(text);
        if (!m.matches()) {
            throw bad("numeric input '" + text + "' is neither a column nor 'name = log1p(column)' / 'scale(column, f)'");
        }
        String name = m.group(1);
        String[] args = m.group(3).split(",");
        String what = "numeric input '" + name + "'";
        int column = column(args[0].strip(), Column.Numeric.class, what);
        return switch (m.group(2)) {
            case "log1p" -> new NumericInput.Log1p(name, column);
            case "scale" -> {
                if (args.length != 2) {
                    throw bad(what + ": scale takes a column and a factor");
                }
                yield new NumericInput.Scale(name, column, number(args[1].strip(), what + "'s factor"));
            }
            default -> throw bad(what + " uses unknown function '" + m.group(2) + "' (known: log1p, scale)");
        };
    }

    private Cross cross(String text) {
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

    /** The place of a declared column of the given type ({@code Column.class}: any type). */
    private int column(String name, Class<? extends Column> type, String what) {
        Integer index = columnIndex.get(name);
        if (index == null) {
            throw bad(what + " names unknown column '" + name + "' (columns: " + String.join(", ", columnIndex.keySet()) + ")");
        }
        Column column = columns.get(index);
        if (!type.isInstance(column)) {
            throw bad(what + " needs a " + typeName(type) + " column, but '" + name + "' is " + column.type());
        }
        return index;
    }

    // Column's records are named as the JSON spells the types, so the message uses the user's word.
    private static String typeName(Class<? extends Column> type) {
        return type.getSimpleName().toLowerCase(Locale.ROOT);
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

    private IllegalArgumentException bad(String what) {
        return new IllegalArgumentException("Schema " + source + " " + what);
    }
}
