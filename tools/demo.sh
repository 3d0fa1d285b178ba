#!/usr/bin/env bash
# The README's demo, on the bundled Silero VAD model (a streaming LSTM voice-activity detector): describe
# the model, check all 16 steps of a recorded stream against ONNX Runtime's outputs, then run the steps
# one by one and print the speech probability of each; finally profile it, plan it and write an HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
tandem=build/tools/tandem
model=models/silero_vad/silero_vad_16k_op15
out=build/demo

echo "== tandem info: what the model is"
"$tandem" info "$model/model.onnx"
echo
echo "== tandem check: all 16 steps against ONNX Runtime's expected outputs"
"$tandem" check "$model" | tail -n 1
echo
echo "== tandem run: the speech probability of each 32 ms step (faint noise, then speech from step 10)"
for k in $(seq 0 15); do
  step="$model/test_data_set_$k"
  prob=$("$tandem" run "$model/model.onnx" --input "input=$step/input_0.pb" --input "state=$step/input_1.pb" \
           --input "sr=$step/input_2.pb" --output-dir "$out/step_$k" | sed -n 's/^output output: float32 \[1,1\].*\[\(.*\)\]$/\1/p')
  printf '  step %2d  speech probability %s\n' "$k" "$prob"
done
echo "outputs of each step are in $out/step_K/*.npy"
echo
echo "== tandem profile, partition, report: where each node would run, as an HTML report (quick settings)"
step0="$model/test_data_set_0"
mkdir -p "$out"
"$tandem" profile "$model/model.onnx" --input "input=$step0/input_0.pb" --input "state=$step0/input_1.pb" \
  --input "sr=$step0/input_2.pb" --reps 3 --budget-ms 20 --link-max 64KiB --threads 1 -o "$out/profile.json" \
  > /dev/null 2>&1
"$tandem" partition "$model/model.onnx" --profile "$out/profile.json" -o "$out/plan.json" > /dev/null
"$tandem" report --profile "$out/profile.json" --plan "$out/plan.json" -o "$out/report.html"
