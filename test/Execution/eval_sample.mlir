// bism-run eval's estimators and sample's samplers on a short checkerboard
// run: the exact and the AIS test log-likelihood agree, the SSM score is
// printed, Langevin and Gibbs samples come out with the asked-for shape.
// The estimators' values are checked by test/unit/EvaluationTest.cpp. The
// input file only carries this test.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bism-run %S/../../examples/grbm/checkerboard.mlir --set K=1 --set N=1 --iters 300 --eval-every 0 --out %t/run --no-png > %t/train.log
// RUN: bism-run eval %t/run/last.ckpt | FileCheck %s --check-prefix=EXACT
// RUN: bism-run eval %t/run/last.ckpt --ll ais --ais-chains 500 --ais-steps 500 --ssm-projections 0 2> %t/ais.log | FileCheck %s --check-prefix=AISLL
// RUN: FileCheck %s --input-file=%t/ais.log --check-prefix=AISLOG
// RUN: bism-run eval %t/run/last.ckpt --ll none --split train --ssm-projections 3 | FileCheck %s --check-prefix=TRAIN
// RUN: bism-run sample %t/run/last.ckpt --sampler langevin --count 150 --sweeps 200 --npy %t/langevin.npy --png %t/langevin.png | FileCheck %s --check-prefix=LANGEVIN
// RUN: bism-run sample %t/run/last.ckpt --count 150 --sweeps 20 --npy %t/gibbs.npy | FileCheck %s --check-prefix=GIBBS
// RUN: bism-run sample %t/run/last.ckpt --count 100 --sweeps 5 --conditional-mean on --npy %t/mean.npy | FileCheck %s --check-prefix=MEAN
// RUN: not bism-run sample %t/run/last.ckpt --sampler langevin --conditional-mean on --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=MEANLANGEVIN
// RUN: head -c 128 %t/langevin.npy | tail -c +11 | FileCheck %s --check-prefix=NPY
// A model with continuous latents and no free energy (the linear-Gaussian
// model of test/Train/build_evaluation.mlir): the posterior Fisher divergence
// during training and in eval, joint Langevin samples.
// RUN: bism-run %S/../Train/build_evaluation.mlir --set dataset=checkerboard --iters 50 --log-every 50 --eval-every 0 --out %t/lg --no-png | FileCheck %s --check-prefix=LGTRAIN
// RUN: bism-run eval %t/lg/last.ckpt | FileCheck %s --check-prefix=LGEVAL
// RUN: bism-run sample %t/lg/last.ckpt --count 100 --sweeps 50 --step-size 1e-2 --npy %t/lg.npy | FileCheck %s --check-prefix=LGSAMPLE
// RUN: not bism-run sample %t/lg/last.ckpt --sampler gibbs --npy %t/lg.npy 2>&1 | FileCheck %s --check-prefix=NOGIBBS
// The BiSM paper's procedure instead: v from p(v|h) at the posterior mean of
// each chain's start, or of 4 training images (conditional samples, 25 each).
// RUN: bism-run sample %t/lg/last.ckpt --latents posterior-mean --count 100 --sweeps 20 --step-size 1e-2 --npy %t/lgpm.npy | FileCheck %s --check-prefix=LGPM
// RUN: bism-run sample %t/lg/last.ckpt --conditional 4 --count 100 --sweeps 20 --step-size 1e-2 --npy %t/lgc.npy | FileCheck %s --check-prefix=LGCOND
// From uniform noise: with each chain's h from a test point, the
// reconstruction error; jointly, plain generation. --denoise on adds
// Tweedie's step with the model's DSM noise (0.3).
// RUN: bism-run sample %t/lg/last.ckpt --latents posterior-mean --start noise --images test --denoise on --count 100 --sweeps 20 --step-size 1e-2 --npy %t/lgrec.npy | FileCheck %s --check-prefix=LGRECON
// RUN: bism-run sample %t/lg/last.ckpt --start noise --count 100 --sweeps 20 --step-size 1e-2 --npy %t/lgnoise.npy | FileCheck %s --check-prefix=LGNOISE
// RUN: bism-run eval %t/lg/last.ckpt --eval-rows 100 | FileCheck %s --check-prefix=LGROWS
// RUN: not bism-run sample %t/lg/last.ckpt --start middle --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=BADSTART
// RUN: not bism-run sample %t/run/last.ckpt --start noise --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=GIBBSNOISE
// RUN: not bism-run sample %t/lg/last.ckpt --images validation --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=BADIMAGES
// RUN: not bism-run sample %t/run/last.ckpt --denoise on --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=DENOISEGIBBS
// RUN: not bism-run sample %t/lg/last.ckpt --latents sideways --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=BADLATENTS
// RUN: not bism-run sample %t/run/last.ckpt --sampler langevin --latents posterior-mean --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=FREELATENTS
// RUN: not bism-run sample %t/lg/last.ckpt --conditional 4 --count 3 --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=FEWCOND
// RUN: not bism-run eval %t/run/last.ckpt --ll bogus 2>&1 | FileCheck %s --check-prefix=BADLL
// RUN: not bism-run sample %t/run/last.ckpt --sampler hmc --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=BADSAMPLER

// EXACT: {"step": 300, "ll_method": "exact", "test_ll": {{-?[0-9]+\.[0-9]+}}, "test_ssm": {{-?[0-9]+\.[0-9]+}}}
// AISLL: {"step": 300, "ll_method": "ais", "test_ll": {{-?[0-9]+\.[0-9]+}}, "ais_log_z": {{[-0-9.]+}}, "ais_log_z_se": {{[0-9.]+}}, "ais_ess": {{[0-9.]+}}}
// AISLOG: AIS: 499/499 transitions, {{[0-9.]+}} s, about 0 s left
// TRAIN: {"step": 300, "ll_method": "none", "train_ssm": {{-?[0-9]+\.[0-9]+}}}
// LANGEVIN: 150 samples after 200 Langevin steps
// GIBBS: 150 samples after 20 Gibbs sweeps
// GIBBS-NOT: mean
// MEAN: 100 samples after 5 Gibbs sweeps, the last one showing the mean of p(v|h)
// MEANLANGEVIN: bism-run: error: --conditional-mean on needs Gibbs sweeps (--sampler gibbs and --sweeps >= 1): the mean of p(v|h) is the last sweep without its noise
// NPY: {'descr': '<f8', 'fortran_order': False, 'shape': (150, 2)
// LGTRAIN: done: 50 steps, {{.*}} test_loss {{[0-9]+\.[0-9]+}}, test_approx_ssm {{-?[0-9]+\.[0-9]+}}, test_posterior_fisher {{[0-9]+\.[0-9]+}}
// LGEVAL: {"step": 50, "ll_method": "none", "ll_note": "the model has an energy and a posterior but no free energy {{.*}}", "test_loss": {{[0-9]+\.[0-9]+}}, "test_approx_ssm": {{-?[0-9]+\.[0-9]+}}, "test_posterior_fisher": {{[0-9]+\.[0-9]+}}}
// LGSAMPLE: 100 samples after 50 Langevin steps
// NOGIBBS: bism-run: error: --sampler gibbs: the model has no gibbs function
// LGPM: 100 samples after 20 Langevin steps from p(v|h) at the posterior mean of each chain's train image
// LGCOND: 100 samples after 20 Langevin steps from p(v|h) at the posterior means of 4 train images, 25 each
// LGRECON: 100 samples after 20 Langevin steps from p(v|h) at the posterior mean of each chain's test image, started at uniform noise, and a denoising step (sigma 0.3)
// LGRECON-NEXT: reconstruction of 100 test images from noise through q's mean and p(v|h): RMSE {{[0-9]+\.[0-9]+}} per element
// LGNOISE: 100 samples after 20 Langevin steps, started at uniform noise
// LGNOISE-NOT: reconstruction
// LGROWS: {"step": 50, "ll_method": "none", {{.*}}"test_loss": {{[0-9]+\.[0-9]+}}
// BADSTART: bism-run: error: --start must be image or noise, got 'middle'
// GIBBSNOISE: bism-run: error: --start noise needs --sampler langevin (Gibbs chains start at data points)
// BADIMAGES: bism-run: error: --images must be train or test, got 'validation'
// DENOISEGIBBS: bism-run: error: --denoise on needs --sampler langevin and a model trained by DSM or MDSM (the step uses their noise level)
// BADLATENTS: bism-run: error: --latents must be joint or posterior-mean, got 'sideways'
// FREELATENTS: bism-run: error: --latents posterior-mean: the model has a free energy, so its Langevin chains run on v alone (p(v) = exp(-F(v)) / Z), without latents
// FEWCOND: bism-run: error: --conditional 4 needs at least that many samples (--count 3)
// BADLL: bism-run: error: --ll must be auto, exact, ais or none, got 'bogus'
// BADSAMPLER: bism-run: error: --sampler must be auto, gibbs, langevin or generator, got 'hmc'

func.func @unused() {
  return
}
