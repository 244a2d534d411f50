/* The analysts' modeler: bpmn-js with its properties panel and the Camunda extensions, live
 * validation against the server, pickers for connector operations and lane roles, and saving
 * as a new version once the server finds no problem and the test cases pass.
 *
 * Built into static/vendor/modeler/modeler.js by `npm run build` (esbuild); the page passes its
 * texts (translated), addresses and the catalog (operations, roles) in data attributes and a
 * JSON script element, so nothing here is inline in the page (the Content-Security-Policy).
 */
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
  useService,
} from "bpmn-js-properties-panel";
import { SelectEntry, isSelectEntryEdited } from "@bpmn-io/properties-panel";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
// The panel's own copy of preact: entries rendered with another copy would draw but never hear events.
import { jsx } from "@bpmn-io/properties-panel/preact/jsx-runtime";
import zhHans from "./modeler-zh.js";

const SPIFF_OPERATOR = "spiffworkflow:serviceTaskOperator";
const VALIDATE_AFTER_MS = 700;

/* bpmn-js's own texts (palette, context pad, menus, properties panel) in the page's language: a
 * `translate` service replacing diagram-js's, which looks the English text up first. */
const DICTIONARIES = { "zh-hans": zhHans };
const dictionary = DICTIONARIES[document.documentElement.lang.toLowerCase()] || {};

function translate(template, replacements = {}) {
  return (dictionary[template] || template).replace(/{([^}]+)}/g, (_, key) => replacements[key] || `{${key}}`);
}

const page = document.getElementById("modeler");
const text = page.dataset;
const catalog = JSON.parse(document.getElementById("modeler-catalog").textContent);

function businessObject(element) {
  return element.businessObject;
}

function is(element, type) {
  return businessObject(element).$instanceOf(type);
}

/* The operation a service task calls: Spiff's own operator element if the file has one, else camunda:topic. */
function spiffOperator(element) {
  const extensions = businessObject(element).extensionElements;
  return extensions ? (extensions.values || []).find((v) => v.$type === SPIFF_OPERATOR) : undefined;
}

function currentOperation(element) {
  const operator = spiffOperator(element);
  if (operator) return operator.id || (operator.$attrs && operator.$attrs.id) || "";
  return businessObject(element).get("camunda:topic") || "";
}

function OperationEntry(props) {
  const { element, id } = props;
  const modeling = useService("modeling");
  const setValue = (value) => {
    const operator = spiffOperator(element);
    if (operator) {
      modeling.updateModdleProperties(element, operator, { id: value });
    } else {
      modeling.updateProperties(element, { "camunda:type": value ? "external" : undefined, "camunda:topic": value || undefined });
    }
  };
  const getOptions = () => [
    { value: "", label: text.noOperation },
    ...catalog.operations.map((op) => ({ value: op.name, label: op.description ? `${op.name} — ${op.description}` : op.name })),
  ];
  return jsx(SelectEntry, {
    id, element, label: text.labelOperation, getValue: () => currentOperation(element), setValue, getOptions,
  });
}

function RoleEntry(props) {
  const { element, id } = props;
  const eventBus = useService("eventBus");
  const name = businessObject(element).name || "";
  const setValue = (value) => {
    laneRoles[name] = value;
    eventBus.fire("elements.changed", { elements: [element] });
    scheduleValidation();
  };
  const getOptions = () => [
    { value: "", label: text.noRole },
    ...catalog.roles.map((role) => ({ value: role, label: role })),
  ];
  return jsx(SelectEntry, { id, element, label: text.labelRole, getValue: () => roleOf(name), setValue, getOptions });
}

/* An end event's outcome kind: a camunda:property "outcome" ("rejected" or "success"), none = read from its name. */
function propertiesOf(element) {
  const extensions = businessObject(element).extensionElements;
  return extensions ? (extensions.values || []).find((v) => v.$type === "camunda:Properties") : undefined;
}

function outcomeProperty(element) {
  const properties = propertiesOf(element);
  return properties ? (properties.values || []).find((p) => p.name === "outcome") : undefined;
}

function OutcomeEntry(props) {
  const { element, id } = props;
  const modeling = useService("modeling");
  const moddle = useService("moddle");
  const setValue = (value) => {
    const current = outcomeProperty(element);
    if (current && value) {
      modeling.updateModdleProperties(element, current, { value });
      return;
    }
    let extensions = businessObject(element).extensionElements;
    if (!extensions) {
      extensions = moddle.create("bpmn:ExtensionElements", { values: [] });
      modeling.updateProperties(element, { extensionElements: extensions });
    }
    let properties = propertiesOf(element);
    if (!properties) {
      properties = moddle.create("camunda:Properties", { values: [] });
      modeling.updateModdleProperties(element, extensions, { values: [...(extensions.values || []), properties] });
    }
    const others = (properties.values || []).filter((p) => p !== current);
    const added = value ? [moddle.create("camunda:Property", { name: "outcome", value })] : [];
    modeling.updateModdleProperties(element, properties, { values: [...others, ...added] });
  };
  const getValue = () => (outcomeProperty(element) || {}).value || "";
  const getOptions = () => [
    { value: "", label: text.outcomeByName },
    { value: "success", label: text.outcomeSuccess },
    { value: "rejected", label: text.outcomeRejected },
  ];
  return jsx(SelectEntry, { id, element, label: text.labelOutcome, getValue, setValue, getOptions });
}

/* Lane roles chosen here; a lane not chosen keeps what the server would give it (its own name). */
const laneRoles = JSON.parse(document.getElementById("modeler-lane-roles").textContent);

function roleOf(laneName) {
  if (laneName in laneRoles) return laneRoles[laneName];
  return catalog.roles.includes(laneName) ? laneName : "";
}

class LanebridgeProperties {
  constructor(propertiesPanel) {
    propertiesPanel.registerProvider(400, this);
  }

  getGroups(element) {
    return (groups) => {
      const entries = [];
      if (is(element, "bpmn:ServiceTask")) {
        entries.push({ id: "lanebridge-operation", element, component: OperationEntry, isEdited: isSelectEntryEdited });
      }
      if (is(element, "bpmn:EndEvent")) {
        entries.push({ id: "lanebridge-outcome", element, component: OutcomeEntry, isEdited: isSelectEntryEdited });
      }
      if (is(element, "bpmn:Lane")) {
        entries.push({ id: "lanebridge-role", element, component: RoleEntry, isEdited: isSelectEntryEdited });
      }
      if (entries.length) groups.splice(1, 0, { id: "lanebridge", label: text.groupLanebridge, entries });
      return groups;
    };
  }
}
LanebridgeProperties.$inject = ["propertiesPanel"];

const modeler = new BpmnModeler({
  container: page.querySelector(".modeler-canvas"),
  // Our group open from the start: the operation and role are what an analyst sets most.
  propertiesPanel: { parent: page.querySelector(".modeler-properties"), layout: { groups: { lanebridge: { open: true } } } },
  additionalModules: [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    { __init__: ["lanebridgeProperties"], lanebridgeProperties: ["type", LanebridgeProperties] },
    { translate: ["value", translate] },
  ],
  moddleExtensions: { camunda: camundaModdle },
});

// For the browser tests and the console: the page's modeler.
window.lanebridgeModeler = modeler;

const problemsList = page.querySelector(".modeler-problems");
const statusLine = page.querySelector(".modeler-status");
const saveButton = page.querySelector(".modeler-save");
const testsInput = page.querySelector("input[name=tests]");
let shownProblems = [];
let validationTimer = null;
let validationRun = 0;

function csrfToken() {
  return page.querySelector("input[name=csrfmiddlewaretoken]").value;
}

async function currentFile() {
  const { xml } = await modeler.saveXML({ format: true });
  return new Blob([xml], { type: "application/xml" });
}

async function formData() {
  const data = new FormData();
  data.append("file", await currentFile(), text.fileName);
  if (testsInput.files.length) data.append("tests", testsInput.files[0]);
  return data;
}

function setStatus(message, kind) {
  statusLine.textContent = message;
  statusLine.dataset.kind = kind;
}

function showProblems(problems, warnings) {
  const overlays = modeler.get("overlays");
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  overlays.remove({ type: "lanebridge-problem" });
  for (const id of shownProblems) if (registry.get(id)) canvas.removeMarker(id, "lb-problem");
  shownProblems = [];
  problemsList.replaceChildren();
  for (const problem of [...problems, ...warnings.map((message) => ({ message, severity: "warning" }))]) {
    const item = document.createElement("li");
    item.className = "modeler-problem modeler-" + problem.severity;
    item.textContent = problem.message;
    if (problem.element_id && registry.get(problem.element_id)) {
      item.dataset.element = problem.element_id;
      item.tabIndex = 0;
      item.addEventListener("click", () => modeler.get("selection").select(registry.get(problem.element_id)));
      if (problem.severity === "error") {
        canvas.addMarker(problem.element_id, "lb-problem");
        shownProblems.push(problem.element_id);
        const badge = document.createElement("div");
        badge.className = "lb-problem-badge";
        badge.title = problem.message;
        badge.textContent = "!";
        overlays.add(problem.element_id, "lanebridge-problem", { position: { top: -10, right: 10 }, html: badge });
      }
    }
    problemsList.appendChild(item);
  }
}

async function validate() {
  const run = ++validationRun;
  setStatus(text.checking, "busy");
  saveButton.disabled = true;
  let body;
  try {
    const response = await fetch(text.validateUrl, {
      method: "POST", body: await formData(), credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
    });
    body = await response.json();
    if (!response.ok) throw new Error(body.error || response.status);
  } catch (error) {
    if (run === validationRun) setStatus(text.checkFailed + " " + error.message, "error");
    return;
  }
  if (run !== validationRun) return; // a newer change is being checked
  showProblems(body.problems, body.warnings);
  const errors = body.problems.filter((p) => p.severity === "error").length;
  setStatus(errors ? text.hasProblems.replace("%(count)s", errors) : text.noProblems, errors ? "error" : "ok");
  saveButton.disabled = errors > 0;
}

function scheduleValidation() {
  clearTimeout(validationTimer);
  saveButton.disabled = true;
  validationTimer = setTimeout(validate, VALIDATE_AFTER_MS);
}

async function save() {
  saveButton.disabled = true;
  setStatus(text.saving, "busy");
  const data = await formData();
  data.append("lane_roles", JSON.stringify(currentLaneRoles()));
  let response, body;
  try {
    response = await fetch(text.saveUrl, {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
    });
    body = await response.json();
  } catch (error) {
    // A lost connection or a page that is not ours (a login page after the session ended).
    setStatus(text.notSaved + " " + (response ? response.status : error.message), "error");
    saveButton.disabled = false;
    return;
  }
  if (response.ok) {
    window.location.assign(body.url);
    return;
  }
  showProblems(body.problems || [], []);
  setStatus(body.error || text.notSaved, "error");
  saveButton.disabled = Boolean(body.problems && body.problems.length);  // a change is checked again
}

/* Every lane in the diagram with its role, so the saved version's lanes are mapped as shown. */
function currentLaneRoles() {
  const roles = {};
  for (const element of modeler.get("elementRegistry").filter((e) => is(e, "bpmn:Lane"))) {
    const name = businessObject(element).name;
    if (name) roles[name] = roleOf(name);
  }
  return roles;
}

async function start() {
  const response = await fetch(text.bpmnUrl, { credentials: "same-origin" });
  if (!response.ok) throw new Error(text.bpmnUrl + " answered " + response.status);
  const { warnings } = await modeler.importXML(await response.text());
  if (warnings.length) console.warn("Lanebridge modeler: import warnings", warnings);
  modeler.get("canvas").zoom("fit-viewport");
  modeler.on("commandStack.changed", scheduleValidation);
  testsInput.addEventListener("change", scheduleValidation);
  saveButton.addEventListener("click", save);
  page.dataset.ready = "true";
  await validate();
}

start().catch((error) => {
  console.error("Lanebridge modeler:", error);
  setStatus(text.loadFailed + " " + error.message, "error");
});
