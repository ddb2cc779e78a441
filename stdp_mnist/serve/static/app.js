// The page of `stdp-mnist serve`: draw on #digit; on release the canvas goes to
// POST /api/predict?detail=1 as a PNG and the answer is drawn. Plain JavaScript, no
// library, so the page works offline.
"use strict";

const digit = document.getElementById("digit");
const pen = digit.getContext("2d");
const statusLine = document.getElementById("status");
let drawing = false;
let inked = false;

function clearDigit() {
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, digit.width, digit.height);
  inked = false;
}

function at(event) {
  const box = digit.getBoundingClientRect();
  return [(event.clientX - box.left) * digit.width / box.width,
          (event.clientY - box.top) * digit.height / box.height];
}

digit.addEventListener("pointerdown", (event) => {
  drawing = true;
  digit.setPointerCapture(event.pointerId);
  const [x, y] = at(event);
  pen.strokeStyle = "#fff";
  pen.lineWidth = 20;
  pen.lineCap = pen.lineJoin = "round";
  pen.beginPath();
  pen.moveTo(x, y);
  pen.lineTo(x + 0.1, y);
  pen.stroke();
  inked = true;
});
digit.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const [x, y] = at(event);
  pen.lineTo(x, y);
  pen.stroke();
});
function release() {
  if (!drawing) return;
  drawing = false;
  if (inked) classify();
}
digit.addEventListener("pointerup", release);
digit.addEventListener("pointercancel", release);
document.getElementById("clear").addEventListener("click", () => {
  clearDigit();
  statusLine.textContent = "Cleared. Draw a digit; release to classify.";
});

async function classify() {
  statusLine.textContent = "classifying ...";
  statusLine.dataset.state = "busy";
  const blob = await new Promise((resolve) => digit.toBlob(resolve, "image/png"));
  const form = new FormData();
  form.append("image", blob, "drawn.png");
  try {
    const response = await fetch("/api/predict?detail=1", { method: "POST", body: form });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    show(answer);
    statusLine.textContent = "done: " + answer.spikes + " excitatory spikes";
    statusLine.dataset.state = "done";
  } catch (err) {
    statusLine.textContent = "error: " + err.message;
    statusLine.dataset.state = "error";
  }
}

function show(answer) {
  for (const readout of ["all", "proportion", "linear"]) {
    const cell = document.getElementById("prediction-" + readout);
    cell.textContent = readout in answer ? String(answer[readout]) : "-";
  }
  document.getElementById("linear-row").hidden = !("linear" in answer);
  document.getElementById("spikes").textContent =
    answer.spikes + " excitatory spikes, " + answer.boosts + " intensity boosts";
  drawVotes(answer.votes.all, answer.all);
  const detail = answer.detail;
  drawImage(detail.image);
  drawRaster("input-raster", detail.input_raster.t_ms, detail.input_raster.input,
             detail.present_ms, detail.n_inputs, 1);
  drawRaster("exc-raster", detail.excitatory_raster.t_ms, detail.excitatory_raster.neuron,
             detail.present_ms, detail.n_excitatory, 3);
  drawFields(detail.fields);
}

function drawVotes(votes, winner) {
  const box = document.getElementById("votes");
  box.replaceChildren();
  const top = Math.max(...votes, 1e-9);
  votes.forEach((vote, cls) => {
    const bar = document.createElement("div");
    bar.className = "bar" + (cls === winner ? " top" : "");
    bar.style.height = Math.max(1, 80 * Math.max(vote, 0) / top) + "px";
    bar.title = "class " + cls + ": " + vote;
    const label = document.createElement("span");
    label.textContent = cls;
    bar.appendChild(label);
    box.appendChild(bar);
  });
}

function drawImage(pixels) {
  const canvas = document.getElementById("seen");
  const g = canvas.getContext("2d");
  const cell = canvas.width / 28;
  pixels.forEach((value, k) => {
    g.fillStyle = "rgb(" + value + "," + value + "," + value + ")";
    g.fillRect((k % 28) * cell, Math.floor(k / 28) * cell, cell, cell);
  });
}

function drawRaster(id, times, rows, duration, nRows, size) {
  const canvas = document.getElementById(id);
  const g = canvas.getContext("2d");
  g.fillStyle = "#fff";
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = "#222";
  for (let k = 0; k < times.length; k++) {
    const x = times[k] / duration * (canvas.width - 2);
    const y = (rows[k] + 0.5) / nRows * canvas.height;
    g.fillRect(x, y - size / 2, Math.max(1, size / 2), Math.max(1, size));
  }
  canvas.dataset.spikes = String(times.length);
}

function drawFields(fields) {
  const box = document.getElementById("fields");
  box.replaceChildren();
  for (const field of fields) {
    const item = document.createElement("div");
    item.className = "field";
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 84;
    const g = canvas.getContext("2d");
    field.field.forEach((w, k) => {
      const level = Math.round(255 * (1 - w));
      g.fillStyle = "rgb(255," + level + "," + Math.round(level * 0.6) + ")";
      g.fillRect((k % 28) * 3, Math.floor(k / 28) * 3, 3, 3);
    });
    const caption = document.createElement("div");
    const cls = field.class >= 0 ? "class " + field.class : "unassigned";
    const spikes = field.spikes + (field.spikes === 1 ? " spike" : " spikes");
    caption.textContent = "neuron " + field.neuron + ": " + spikes + ", " + cls;
    item.append(canvas, caption);
    box.appendChild(item);
  }
}

async function loadRun() {
  const response = await fetch("/api/run");
  const run = await response.json();
  const accuracy = Object.entries(run.accuracy)
    .map(([name, value]) => name + " " + (100 * value).toFixed(2) + "%").join(", ");
  document.getElementById("run-line").textContent =
    run.path + ": " + run.n_excitatory + " neurons, " + run.examples_trained + " examples trained" +
    (accuracy ? "; test accuracy " + accuracy + " (" + run.n_test + " images)" : "");
  document.getElementById("summary").textContent = run.summary.join("\n");
  const figures = document.getElementById("figures");
  for (const name of run.figures) {
    const img = document.createElement("img");
    img.src = "/api/figures/" + encodeURIComponent(name);
    img.alt = name;
    figures.appendChild(img);
  }
}

clearDigit();
loadRun();
