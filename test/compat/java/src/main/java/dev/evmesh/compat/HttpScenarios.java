package dev.evmesh.compat;

import static dev.evmesh.compat.Main.check;

import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import org.apache.eventmesh.client.http.conf.EventMeshHttpClientConfig;
import org.apache.eventmesh.client.http.consumer.EventMeshHttpConsumer;
import org.apache.eventmesh.client.http.producer.EventMeshHttpProducer;
import org.apache.eventmesh.common.EventMeshMessage;
import org.apache.eventmesh.common.protocol.SubscriptionItem;
import org.apache.eventmesh.common.protocol.SubscriptionMode;
import org.apache.eventmesh.common.protocol.SubscriptionType;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * EventMesh HTTP scenarios (spec H9, H10, H13, H15, H40) of the Apache EventMesh Java SDK
 * (eventmesh-sdk-java 1.10.0-release) against evmesh's HTTP port; exits 0 only when every check
 * passed. Run through {@link Main} ({@code Main <host> <httpPort> http-<kind>}) with kind one of
 * pubsub-cloudevents, pubsub-eventmeshmessage.
 *
 * <p>The subscriber is the SDK's EventMeshHttpConsumer (subscribe, heartbeat, unsubscribe) with
 * a webhook served by the JDK's HttpServer, answering {"retCode":1} as the SDK examples do.
 * No request-reply scenario: the 1.10.0 SDK's EventMeshHttpProducer.request cannot read any
 * reply (Jackson finds no creator for SendMessageResponseBody.ReplyMessage), whatever the
 * server answers; evmesh's 101/301 are covered by test/protocol/http-eventmesh.test.ts.
 */
public final class HttpScenarios {
    private static final int EVENTS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpScenarios() {
    }

    private static EventMeshHttpClientConfig config(String host, int port, String group) {
        return EventMeshHttpClientConfig.builder()
            .liteEventMeshAddr(host + ":" + port)
            .producerGroup(group + "-producer").consumerGroup(group)
            .env("test").idc("idc1").ip("127.0.0.1").sys("1234").pid(String.valueOf(ProcessHandle.current().pid()))
            .userName("eventmesh").password("pass")
            .build();
    }

    private static Map<String, String> form(InputStream in) throws Exception {
        Map<String, String> out = new HashMap<>();
        for (String kv : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("&")) {
            int i = kv.indexOf('=');
            if (i > 0) {
                out.put(URLDecoder.decode(kv.substring(0, i), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(i + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    interface Hook {
        void handle(Map<String, String> form, String code) throws Exception;
    }

    private static HttpServer webhook(Hook hook) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", exchange -> {
            try {
                hook.handle(form(exchange.getRequestBody()), exchange.getRequestHeaders().getFirst("code"));
            } catch (Exception e) {
                System.out.println("FAIL webhook handler: " + e);
            }
            byte[] body = "{\"retCode\":1}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(body);
            }
        });
        server.start();
        return server;
    }

    private static void pubSub(String host, int port, String topic, boolean cloudEvents) throws Exception {
        Set<String> got = ConcurrentHashMap.newKeySet();
        CountDownLatch all = new CountDownLatch(EVENTS);
        HttpServer server = webhook((f, code) -> {
            check("105".equals(code), "push carries code 105 (H40)");
            String content = f.get("content");
            String id = cloudEvents ? JSON.readTree(content).get("id").asText() : f.get("bizseqno");
            check(topic.equals(f.get("topic")), "push topic " + f.get("topic"));
            if (got.add(id)) {
                all.countDown();
            }
        });
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        String group = "java-http-" + UUID.randomUUID().toString().substring(0, 8);
        try (EventMeshHttpConsumer consumer = new EventMeshHttpConsumer(config(host, port, group));
             EventMeshHttpProducer producer = new EventMeshHttpProducer(config(host, port, group))) {
            SubscriptionItem item = new SubscriptionItem(topic, SubscriptionMode.CLUSTERING, SubscriptionType.ASYNC);
            consumer.subscribe(Collections.singletonList(item), url);
            check(true, "EventMeshHttpConsumer.subscribe (206) answered retCode 0");
            consumer.heartBeat(Collections.singletonList(item), url);
            Set<String> sent = ConcurrentHashMap.newKeySet();
            for (int i = 0; i < EVENTS; i++) {
                String id = UUID.randomUUID().toString();
                sent.add(id);
                if (cloudEvents) {
                    CloudEvent ev = CloudEventBuilder.v1().withId(id).withSubject(topic).withSource(URI.create("/java"))
                        .withType("compat").withDataContentType("application/cloudevents+json")
                        .withData(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)).build();
                    producer.publish(ev);
                } else {
                    producer.publish(EventMeshMessage.builder().bizSeqNo(id).uniqueId(id).topic(topic).content("message " + i).build());
                }
            }
            check(true, "EventMeshHttpProducer.publish (104) x" + EVENTS + " answered retCode 0");
            check(all.await(15, TimeUnit.SECONDS), "webhook received every event (" + got.size() + "/" + EVENTS + ")");
            check(got.equals(sent), "received ids are the published ids");
            consumer.unsubscribe(Collections.singletonList(topic), url);
            check(true, "EventMeshHttpConsumer.unsubscribe (207) answered retCode 0");
        } finally {
            server.stop(0);
        }
    }

    static void run(String host, int port, String kind, String topic) throws Exception {
        switch (kind) {
            case "pubsub-cloudevents":
                pubSub(host, port, topic, true);
                break;
            case "pubsub-eventmeshmessage":
                pubSub(host, port, topic, false);
                break;
            default:
                throw new IllegalArgumentException("unknown HTTP scenario " + kind);
        }
    }
}
