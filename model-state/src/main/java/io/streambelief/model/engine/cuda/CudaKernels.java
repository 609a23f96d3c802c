package io.streambelief.model.engine.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import io.streambelief.model.DenseNetwork;
import io.streambelief.model.engine.dense.Kernels;

/**
 * The primitives on one CUDA device: cuBLAS for the matrix products (FP32, its default math mode,
 * as PyTorch's default), NVRTC-compiled kernels from {@code dense_kernels.cu} for the rest. The
 * math runs in order on one stream; downloads run on a second one, each behind an event marking
 * the math it waits for, so they overlap the math queued after them. Host copies go through
 * pinned buffers, so they run at full bus speed. Bound to its device on every upload, because
 * CUDA's current device belongs to a thread and a Flink task may move between threads.
 *
 * <p>Only usable where {@link CudaRuntime#probe()} says so; not thread-safe.
 */
public final class CudaKernels implements Kernels {
    static final String SOURCE = "dense_kernels.cu";
    private static final int THREADS = 256;
    private static final int MAX_BLOCKS = 1 << 16;

    /** The kernels' image by architecture ("90"), shared by every instance in this JVM. */
    private static final Map<String, byte[]> COMPILED = new ConcurrentHashMap<>();

    private final int device;
    private final cublasContext blas = new cublasContext();
    /** Both non-blocking: the legacy default stream would serialize them. */
    private final CUstream_st compute = new CUstream_st();
    private final CUstream_st copies = new CUstream_st();
    private final CUmod_st module = new CUmod_st();
    private final CUfunc_st addBias = new CUfunc_st();
    private final CUfunc_st activate = new CUfunc_st();
    private final CUfunc_st multiplyByDerivative = new CUfunc_st();
    private final CUfunc_st softmaxCrossEntropy = new CUfunc_st();
    private final CUfunc_st sigmoidCrossEntropy = new CUfunc_st();
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private final List<DeviceBuffer> allocated = new ArrayList<>();
    private FloatPointer pinned;
    private long pinnedFloats;
    /** Pinned memory for downloads, handed out in order and reused once none is in flight. */
    private FloatPointer downloads;
    private long downloadFloats;
    private long downloadUsed;
    /** Floats asked for since downloads were last all finished: the size the buffer grows to. */
    private long downloadDemand;
    private int inFlight;
    /** A column of ones: the row sums are a matrix-vector product with it. */
    private DeviceBuffer ones;
    private final String deviceName;
    private boolean closed;

    /** Binds to device {@code device} (an index below {@link CudaRuntime.Availability#devices()}). */
    public CudaKernels(int device) {
        CudaRuntime.Availability cuda = CudaRuntime.probe();
        if (!cuda.usable()) {
            throw new IllegalStateException("CUDA is not usable here: " + cuda.reason());
        }
        if (device < 0 || device >= cuda.devices()) {
            throw new IllegalArgumentException("CUDA device " + device + " does not exist; this process sees "
                    + cuda.devices() + " (CUDA_VISIBLE_DEVICES narrows them)");
        }
        this.device = device;
        try {
            deviceName = start();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Binds the device, creates cuBLAS's handle and loads the compiled kernels; returns the device's name. */
    private String start() {
        check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        // Creates the device's primary context, which the driver API calls below then use.
        check(cudart.cudaFree(null), "initializing device " + device);
        cudaDeviceProp properties = new cudaDeviceProp();
        check(cudart.cudaGetDeviceProperties(properties, device), "cudaGetDeviceProperties");
        check(cudart.cudaStreamCreateWithFlags(compute, cudart.cudaStreamNonBlocking), "cudaStreamCreate");
        check(cudart.cudaStreamCreateWithFlags(copies, cudart.cudaStreamNonBlocking), "cudaStreamCreate");
        checkBlas(cublas.cublasCreate_v2(blas), "cublasCreate");
        checkBlas(cublas.cublasSetStream_v2(blas, compute), "cublasSetStream");
        byte[] image = compile(properties.major(), properties.minor());
        checkDriver(cudart.cuModuleLoadData(module, new BytePointer(image)), "loading the compiled kernels");
        function(addBias, "add_bias");
        function(activate, "activate");
        function(multiplyByDerivative, "multiply_by_derivative");
        function(softmaxCrossEntropy, "softmax_cross_entropy");
        function(sigmoidCrossEntropy, "sigmoid_cross_entropy");
        return properties.name().getString() + " (compute " + properties.major() + "." + properties.minor() + ")";
    }

    /** CUDA's current device belongs to a thread, and a Flink task may move between threads. */
    private void bind() {
        check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    }

    /** The device's name and compute capability, for logs. */
    public String deviceName() {
        return deviceName;
    }

    public int device() {
        return device;
    }

    @Override
    public Buffer allocate(long length) {
        bind();
        Pointer address = new Pointer();
        check(cudart.cudaMalloc(address, Math.max(1, length) * Float.BYTES), "cudaMalloc of " + length + " floats");
        // On the math's stream: the legacy default stream would not order it before the math.
        check(cudart.cudaMemsetAsync(address, 0, length * Float.BYTES, compute), "cudaMemset");
        DeviceBuffer buffer = new DeviceBuffer(address.address(), length);
        allocated.add(buffer);
        return buffer;
    }

    @Override
    public void free(Buffer buffer) {
        DeviceBuffer b = (DeviceBuffer) buffer;
        bind();
        if (allocated.remove(b)) {
            check(cudart.cudaFree(b.pointer()), "cudaFree");
        }
    }

    @Override
    public void upload(float[] source, int count, Buffer target) {
        bind();
        DeviceBuffer t = device(target, count);
        FloatPointer staging = pinned(count);
        staging.put(source, 0, count);
        check(cudart.cudaMemcpyAsync(t.pointer(), staging, (long) count * Float.BYTES, cudart.cudaMemcpyHostToDevice,
                compute), "copying " + count + " floats to the device");
        // Waits: the pinned buffer is reused by the next upload.
        check(cudart.cudaStreamSynchronize(compute), "copying " + count + " floats to the device");
    }

    @Override
    public Download startDownload(Buffer source, float[] target, int offset, int count) {
        bind();
        DeviceBuffer s = device(source, count);
        downloadDemand += count;
        FloatPointer region;
        boolean ownRegion = downloads == null || downloadUsed + count > downloadFloats;
        if (ownRegion) {
            // Until the shared buffer has grown to a whole step's downloads (once all are finished).
            Pointer host = new Pointer();
            check(cudart.cudaMallocHost(host, Math.max(1, count) * (long) Float.BYTES), "cudaMallocHost");
            region = new FloatPointer(host);
        } else {
            region = new AddressedPointer(downloads.address() + downloadUsed * Float.BYTES);
            downloadUsed += count;
        }
        CUevent_st ready = new CUevent_st();
        check(cudart.cudaEventCreateWithFlags(ready, cudart.cudaEventDisableTiming), "cudaEventCreate");
        check(cudart.cudaEventRecord(ready, compute), "cudaEventRecord");
        check(cudart.cudaStreamWaitEvent(copies, ready, 0), "cudaStreamWaitEvent");
        cudart.cudaEventDestroy(ready);
        check(cudart.cudaMemcpyAsync(region, s.pointer(), (long) count * Float.BYTES, cudart.cudaMemcpyDeviceToHost,
                copies), "copying " + count + " floats from the device");
        CUevent_st done = new CUevent_st();
        check(cudart.cudaEventCreateWithFlags(done, cudart.cudaEventDisableTiming), "cudaEventCreate");
        check(cudart.cudaEventRecord(done, copies), "cudaEventRecord");
        inFlight++;
        return new Download() {
            private boolean finished;

            @Override
            public void finish() {
                if (finished) {
                    return;
                }
                finished = true;
                try {
                    check(cudart.cudaEventSynchronize(done), "copying " + count + " floats from the device");
                    region.get(target, offset, count);
                } finally {
                    cudart.cudaEventDestroy(done);
                    if (ownRegion) {
                        cudart.cudaFreeHost(region);
                    }
                    downloadFinished();
                }
            }
        };
    }

    private void downloadFinished() {
        if (--inFlight > 0) {
            return;
        }
        downloadUsed = 0;
        if (downloadDemand > downloadFloats) {
            if (downloads != null) {
                cudart.cudaFreeHost(downloads);
                downloads = null;
                downloadFloats = 0;
            }
            Pointer host = new Pointer();
            check(cudart.cudaMallocHost(host, downloadDemand * Float.BYTES), "cudaMallocHost of " + downloadDemand
                    + " floats");
            downloads = new FloatPointer(host);
            downloadFloats = downloadDemand;
        }
        downloadDemand = 0;
    }

    @Override
    public void gemm(boolean transposeA, boolean transposeB, int m, int n, int k, Buffer a, int lda, Buffer b, int ldb,
            Buffer c, int ldc) {
        checkBlas(cublas.cublasSgemm_v2(blas, transposeA ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
                transposeB ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N, m, n, k, one, device(a, 0).pointer(), lda,
                device(b, 0).pointer(), ldb, zero, device(c, (long) (n - 1) * ldc + m).pointer(), ldc), "cublasSgemm");
    }

    @Override
    public void addBias(Buffer matrix, Buffer bias, int rows, int columns) {
        long count = (long) rows * columns;
        launch(addBias, count, address(matrix, count), address(bias, rows), rows, count);
    }

    @Override
    public void activate(DenseNetwork.Activation activation, Buffer values, int count) {
        if (activation != DenseNetwork.Activation.IDENTITY) {
            launch(activate, count, activation.ordinal(), address(values, count), (long) count);
        }
    }

    @Override
    public void multiplyByDerivative(DenseNetwork.Activation activation, Buffer activations, Buffer gradient,
            int count) {
        if (activation != DenseNetwork.Activation.IDENTITY) {
            launch(multiplyByDerivative, count, activation.ordinal(), address(activations, count),
                    address(gradient, count), (long) count);
        }
    }

    @Override
    public void loss(DenseNetwork.Loss loss, Buffer logits, Buffer labels, int classes, int batch, float scale,
            Buffer delta, Buffer stats) {
        long values = (long) classes * batch;
        if (loss == DenseNetwork.Loss.SOFTMAX_CROSS_ENTROPY) {
            launch(softmaxCrossEntropy, batch, address(logits, values), address(labels, batch), classes, batch, scale,
                    address(delta, values), address(stats, 2L * batch));
        } else {
            launch(sigmoidCrossEntropy, batch, address(logits, batch), address(labels, batch), batch, scale,
                    address(delta, batch), address(stats, 2L * batch));
        }
    }

    @Override
    public void rowSums(Buffer matrix, int rows, int columns, Buffer sums) {
        if (ones == null || ones.length() < columns) {
            if (ones != null) {
                free(ones);
                ones = null;
            }
            float[] values = new float[columns];
            java.util.Arrays.fill(values, 1f);
            ones = (DeviceBuffer) upload(values);
        }
        checkBlas(cublas.cublasSgemv_v2(blas, cublas.CUBLAS_OP_N, rows, columns, one,
                device(matrix, (long) rows * columns).pointer(), rows, ones.pointer(), 1, zero,
                device(sums, rows).pointer(), 1), "cublasSgemv");
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cudart.cudaSetDevice(device);
        // Work of a failed step may still be queued; nothing is freed under it.
        cudart.cudaStreamSynchronize(compute);
        cudart.cudaStreamSynchronize(copies);
        for (DeviceBuffer buffer : allocated) {
            cudart.cudaFree(buffer.pointer());
        }
        allocated.clear();
        if (pinned != null) {
            cudart.cudaFreeHost(pinned);
        }
        if (downloads != null) {
            cudart.cudaFreeHost(downloads);
        }
        cudart.cuModuleUnload(module);
        cublas.cublasDestroy_v2(blas);
        cudart.cudaStreamDestroy(compute);
        cudart.cudaStreamDestroy(copies);
    }

    /**
     * The kernels' CUDA C, compiled for this device: to machine code for its architecture
     * ({@code sm_XY}), which any driver of that architecture loads; to PTX ({@code compute_XY})
     * only when this NVRTC does not know the architecture yet, since a driver older than NVRTC
     * refuses newer PTX. Compiled once per architecture and JVM, not once per worker.
     */
    private static byte[] compile(int major, int minor) {
        return COMPILED.computeIfAbsent("" + major + minor, CudaKernels::compileFor);
    }

    private static byte[] compileFor(String architecture) {
        try {
            return compile("--gpu-architecture=sm_" + architecture, true);
        } catch (IllegalStateException machineCode) {
            try {
                return compile("--gpu-architecture=compute_" + architecture, false);
            } catch (IllegalStateException ptx) {
                ptx.addSuppressed(machineCode);
                throw ptx;
            }
        }
    }

    private static byte[] compile(String architecture, boolean machineCode) {
        _nvrtcProgram program = new _nvrtcProgram();
        checkNvrtc(nvrtc.nvrtcCreateProgram(program, new BytePointer(source()), new BytePointer(SOURCE), 0,
                (PointerPointer<?>) null, (PointerPointer<?>) null), "nvrtcCreateProgram");
        try {
            int compiled = nvrtc.nvrtcCompileProgram(program, 1, new PointerPointer<BytePointer>(architecture));
            if (compiled != nvrtc.NVRTC_SUCCESS) {
                SizeTPointer logSize = new SizeTPointer(1);
                nvrtc.nvrtcGetProgramLogSize(program, logSize);
                BytePointer log = new BytePointer(Math.max(1, logSize.get()));
                nvrtc.nvrtcGetProgramLog(program, log);
                throw new IllegalStateException("NVRTC could not compile " + SOURCE + " with " + architecture + ": "
                        + nvrtc.nvrtcGetErrorString(compiled).getString() + " " + log.getString().strip());
            }
            SizeTPointer size = new SizeTPointer(1);
            byte[] image;
            if (machineCode) {
                checkNvrtc(nvrtc.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize");
                image = new byte[Math.toIntExact(size.get())];
                checkNvrtc(nvrtc.nvrtcGetCUBIN(program, image), "nvrtcGetCUBIN");
            } else {
                checkNvrtc(nvrtc.nvrtcGetPTXSize(program, size), "nvrtcGetPTXSize");
                image = new byte[Math.toIntExact(size.get())];
                checkNvrtc(nvrtc.nvrtcGetPTX(program, image), "nvrtcGetPTX");
            }
            return image;
        } finally {
            nvrtc.nvrtcDestroyProgram(program);
        }
    }

    static String source() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(SOURCE)) {
            return new String(Objects.requireNonNull(in, SOURCE + " is missing from the jar").readAllBytes(),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void function(CUfunc_st function, String name) {
        checkDriver(cudart.cuModuleGetFunction(function, module, name), "finding kernel " + name);
    }

    /**
     * Launches {@code function} with enough blocks of {@value #THREADS} threads for {@code work}
     * items (the kernels loop over the rest). Arguments: device addresses and counts as
     * {@code long}, sizes and kinds as {@code int}, scales as {@code float}.
     */
    private void launch(CUfunc_st function, long work, Object... arguments) {
        Pointer[] slots = new Pointer[arguments.length];
        for (int i = 0; i < arguments.length; i++) {
            Object argument = arguments[i];
            if (argument instanceof Long value) {
                slots[i] = new LongPointer(1).put(value);
            } else if (argument instanceof Integer value) {
                slots[i] = new IntPointer(1).put(value);
            } else if (argument instanceof Float value) {
                slots[i] = new FloatPointer(1).put(value);
            } else {
                throw new IllegalArgumentException("Kernel argument of type " + argument.getClass());
            }
        }
        int blocks = (int) Math.max(1, Math.min(MAX_BLOCKS, (work + THREADS - 1) / THREADS));
        checkDriver(cudart.cuLaunchKernel(function, blocks, 1, 1, THREADS, 1, 1, 0, compute,
                new PointerPointer<>(slots), null), "launching a kernel");
    }

    private FloatPointer pinned(long floats) {
        if (pinned == null || pinnedFloats < floats) {
            if (pinned != null) {
                cudart.cudaFreeHost(pinned);
                pinned = null;
                pinnedFloats = 0;
            }
            Pointer host = new Pointer();
            check(cudart.cudaMallocHost(host, Math.max(1, floats) * Float.BYTES), "cudaMallocHost of " + floats
                    + " floats");
            pinned = new FloatPointer(host).capacity(floats).limit(floats);
            pinnedFloats = floats;
        }
        return pinned.position(0);
    }

    private static long address(Buffer buffer, long needed) {
        return device(buffer, needed).address();
    }

    private static DeviceBuffer device(Buffer buffer, long needed) {
        DeviceBuffer device = (DeviceBuffer) Objects.requireNonNull(buffer, "buffer");
        if (needed > device.length()) {
            throw new IllegalArgumentException("Buffer of " + device.length() + " floats, operation needs " + needed);
        }
        return device;
    }

    static void check(int code, String what) {
        if (code != cudart.cudaSuccess) {
            throw new IllegalStateException("CUDA error in " + what + ": " + cudart.cudaGetErrorString(code).getString()
                    + " (" + code + ")");
        }
    }

    private static void checkDriver(int code, String what) {
        if (code != cudart.CUDA_SUCCESS) {
            PointerPointer<BytePointer> message = new PointerPointer<>(1);
            cudart.cuGetErrorString(code, message);
            BytePointer text = message.get(BytePointer.class, 0);
            throw new IllegalStateException("CUDA driver error in " + what + ": "
                    + (text == null || text.isNull() ? "code " + code : text.getString()));
        }
    }

    private static void checkBlas(int status, String what) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new IllegalStateException("cuBLAS error in " + what + ": "
                    + cublas.cublasGetStatusString(status).getString());
        }
    }

    private static void checkNvrtc(int result, String what) {
        if (result != nvrtc.NVRTC_SUCCESS) {
            throw new IllegalStateException("NVRTC error in " + what + ": " + nvrtc.nvrtcGetErrorString(result).getString());
        }
    }

    /** Floats {@code [0, length)} at a device address. */
    private record DeviceBuffer(long address, long length) implements Buffer {
        @Override
        public Buffer slice(long offset, long length) {
            if (offset < 0 || length < 0 || offset + length > this.length) {
                throw new IndexOutOfBoundsException("Slice [" + offset + ", " + (offset + length) + ") of a buffer of "
                        + this.length + " floats");
            }
            return new DeviceBuffer(address + offset * Float.BYTES, length);
        }

        /** A JavaCPP pointer to the device address, for cuBLAS and cudart (which never dereference it here). */
        FloatPointer pointer() {
            return new AddressedPointer(address);
        }
    }

    /**
     * A pointer at an absolute address, device or pinned host memory, at position 0. JavaCPP keeps
     * a pointer's address protected, and it scales a position by the element size for
     * {@code float*} parameters but not for {@code void*} ones; absolute addresses mean the same
     * to both.
     */
    private static final class AddressedPointer extends FloatPointer {
        AddressedPointer(long address) {
            this.address = address;
        }
    }
}
