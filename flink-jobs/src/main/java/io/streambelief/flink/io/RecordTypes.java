package io.streambelief.flink.io;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.RowGradient;

/** Type information that makes Flink use our own serializers for shard values and gradients and the sparse row path. */
public final class RecordTypes {
    public static final TypeInformation<GradientSlice> GRADIENT_SLICE =
            new SingletonTypeInfo<>(GradientSlice.class, GradientSliceTypeSerializer.INSTANCE);
    public static final TypeInformation<ParamUpdate> PARAM_UPDATE =
            new SingletonTypeInfo<>(ParamUpdate.class, ParamUpdateTypeSerializer.INSTANCE);
    public static final TypeInformation<ParamDelta> PARAM_DELTA =
            new SingletonTypeInfo<>(ParamDelta.class, ParamDeltaTypeSerializer.INSTANCE);

    public static final TypeInformation<ParsedExample> PARSED_EXAMPLE =
            new SingletonTypeInfo<>(ParsedExample.class, SparseRecordSerializers.ParsedExampleSerializer.INSTANCE);
    public static final TypeInformation<RowLookup> ROW_LOOKUP =
            new SingletonTypeInfo<>(RowLookup.class, SparseRecordSerializers.RowLookupSerializer.INSTANCE);
    public static final TypeInformation<RowLookupReply> ROW_LOOKUP_REPLY =
            new SingletonTypeInfo<>(RowLookupReply.class, SparseRecordSerializers.RowLookupReplySerializer.INSTANCE);
    public static final TypeInformation<RowGradients> ROW_GRADIENTS =
            new SingletonTypeInfo<>(RowGradients.class, SparseRecordSerializers.RowGradientsSerializer.INSTANCE);
    public static final TypeInformation<LoggedRowGradient> LOGGED_ROW_GRADIENT =
            new SingletonTypeInfo<>(LoggedRowGradient.class, SparseRecordSerializers.LoggedRowGradientSerializer.INSTANCE);
    public static final TypeInformation<RowGradient> ROW_GRADIENT =
            new SingletonTypeInfo<>(RowGradient.class, SparseRecordSerializers.RowGradientSerializer.INSTANCE);

    private RecordTypes() {}

    private static final class SingletonTypeInfo<T> extends TypeInformation<T> {
        private static final long serialVersionUID = 1L;

        private final Class<T> type;
        private final TypeSerializer<T> serializer;

        SingletonTypeInfo(Class<T> type, TypeSerializer<T> serializer) {
            this.type = type;
            this.serializer = serializer;
        }

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        public Class<T> getTypeClass() {
            return type;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<T> createSerializer(SerializerConfig config) {
            return serializer;
        }

        @Override
        public String toString() {
            return type.getSimpleName();
        }

        @Override
        public boolean equals(Object obj) {
            return obj instanceof SingletonTypeInfo<?> other && other.type == type;
        }

        @Override
        public int hashCode() {
            return type.hashCode();
        }

        @Override
        public boolean canEqual(Object obj) {
            return obj instanceof SingletonTypeInfo;
        }
    }
}
