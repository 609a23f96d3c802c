// Runs the CUDA kernels of dense_kernels.cu on the CPU, one simulated thread after another, so
// their arithmetic and indexing can be checked on machines without a GPU (CudaKernelSourceTest).
// Sound only because the kernels use no shared memory and no synchronization: every thread's
// work is independent of the order threads run in.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

struct Dim { unsigned x, y, z; };
static Dim blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__
#include "dense_kernels.cu"

// A small grid, so the kernels' grid-stride loops wrap around.
template <typename Kernel> static void launch(Kernel kernel) {
    gridDim = {3, 1, 1};
    blockDim = {7, 1, 1};
    for (unsigned b = 0; b < gridDim.x; b++) {
        for (unsigned t = 0; t < blockDim.x; t++) {
            blockIdx = {b, 0, 0};
            threadIdx = {t, 0, 0};
            kernel();
        }
    }
}

static std::vector<float> read(long long n) {
    std::vector<float> values(n);
    for (long long i = 0; i < n; i++) {
        if (scanf("%f", &values[i]) != 1) {
            fprintf(stderr, "expected %lld numbers on stdin\n", n);
            exit(2);
        }
    }
    return values;
}

static void print(const std::vector<float>& values) {
    for (float v : values) printf("%.9g\n", v);
}

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    const char* name = argv[1];
    if (!strcmp(name, "add_bias")) {
        int rows = atoi(argv[2]), columns = atoi(argv[3]);
        long long count = (long long) rows * columns;
        std::vector<float> m = read(count), bias = read(rows);
        launch([&] { add_bias(m.data(), bias.data(), rows, count); });
        print(m);
    } else if (!strcmp(name, "activate")) {
        int kind = atoi(argv[2]);
        long long count = atoll(argv[3]);
        std::vector<float> v = read(count);
        launch([&] { activate(kind, v.data(), count); });
        print(v);
    } else if (!strcmp(name, "multiply_by_derivative")) {
        int kind = atoi(argv[2]);
        long long count = atoll(argv[3]);
        std::vector<float> a = read(count), g = read(count);
        launch([&] { multiply_by_derivative(kind, a.data(), g.data(), count); });
        print(g);
    } else if (!strcmp(name, "softmax_cross_entropy") || !strcmp(name, "sigmoid_cross_entropy")) {
        bool softmax = !strcmp(name, "softmax_cross_entropy");
        int classes = atoi(argv[2]), batch = atoi(argv[3]);
        float scale = (float) atof(argv[4]);
        std::vector<float> z = read((long long) classes * batch), labels = read(batch);
        std::vector<float> delta((long long) classes * batch), stats(2 * batch);
        if (softmax) {
            launch([&] { softmax_cross_entropy(z.data(), labels.data(), classes, batch, scale, delta.data(), stats.data()); });
        } else {
            launch([&] { sigmoid_cross_entropy(z.data(), labels.data(), batch, scale, delta.data(), stats.data()); });
        }
        print(delta);
        print(stats);
    } else {
        fprintf(stderr, "unknown kernel %s\n", name);
        return 2;
    }
    return 0;
}
