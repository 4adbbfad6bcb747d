package dev.evmesh.compat;

import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;

import com.sun.net.httpserver.HttpServer;

import org.apache.eventmesh.client.grpc.config.EventMeshGrpcClientConfig;
import org.apache.eventmesh.client.grpc.consumer.EventMeshGrpcConsumer;
import org.apache.eventmesh.client.grpc.consumer.ReceiveMsgHook;
import org.apache.eventmesh.client.grpc.producer.EventMeshGrpcProducer;
import org.apache.eventmesh.common.EventMeshMessage;
import org.apache.eventmesh.common.enums.EventMeshProtocolType;
import org.apache.eventmesh.common.protocol.SubscriptionItem;
import org.apache.eventmesh.common.protocol.SubscriptionMode;
import org.apache.eventmesh.common.protocol.SubscriptionType;
import org.apache.eventmesh.common.protocol.grpc.common.Response;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC scenarios (spec G*) of the Java SDK 1.10.0-release against evmesh's gRPC port:
 * grpc-pubsub-cloudevents (producer publish + batch publish, stream consumer),
 * grpc-pubsub-eventmeshmessage, grpc-rr-cloudevents (requestReply answered by a SYNC stream
 * consumer) and grpc-webhook-cloudevents (webhook consumer; the webhook is a JDK HttpServer).
 */
final class GrpcScenarios {
    private static final long TIMEOUT_MS = 10_000;
    private static final int EVENTS = 3;

    private GrpcScenarios() {
    }

    static void run(String host, int port, String scenario, String topic) throws Exception {
        switch (scenario) {
            case "pubsub-cloudevents":
                pubSubCloudEvents(host, port, topic);
                break;
            case "pubsub-eventmeshmessage":
                pubSubEventMeshMessage(host, port, topic);
                break;
            case "rr-cloudevents":
                requestReply(host, port, topic);
                break;
            case "webhook-cloudevents":
                webhook(host, port, topic);
                break;
            default:
                throw new IllegalArgumentException("unknown gRPC scenario " + scenario);
        }
    }

    private static EventMeshGrpcClientConfig config(String host, int port, String group) {
        return EventMeshGrpcClientConfig.builder()
            .serverAddr(host).serverPort(port)
            .producerGroup(group + "-pub").consumerGroup(group)
            .env("test").idc("FT").sys("5023").userName("compat").password("secret").language("JAVA")
            .build();
    }

    private static EventMeshGrpcProducer producer(String host, int port, String group) {
        EventMeshGrpcProducer p = new EventMeshGrpcProducer(config(host, port, group));
        Main.track(p);
        return p;
    }

    private static EventMeshGrpcConsumer consumer(String host, int port, String group, ReceiveMsgHook<?> hook) {
        EventMeshGrpcConsumer c = new EventMeshGrpcConsumer(config(host, port, group));
        c.init();
        if (hook != null) {
            c.registerListener(hook);
        }
        Main.track(c);
        return c;
    }

    private static CloudEvent cloudEvent(String topic, String text) {
        return CloudEventBuilder.v1()
            .withId(UUID.randomUUID().toString())
            .withSubject(topic)
            .withSource(URI.create("/compat"))
            .withDataContentType("text/plain")
            .withType("compat")
            .withData(text.getBytes(StandardCharsets.UTF_8))
            .withExtension("compatext", "x")
            .build();
    }

    private static String text(CloudEvent e) {
        return e.getData() == null ? null : new String(e.getData().toBytes(), StandardCharsets.UTF_8);
    }

    /** The SDK subscribes on its stream asynchronously (no answer is returned): publish probes
     *  until one arrives, so the scenario's events are published after the subscription joined. */
    private static void awaitSubscribed(Runnable publishProbe, CountDownLatch probeSeen) throws Exception {
        for (int i = 0; i < 40; i++) {
            publishProbe.run();
            if (probeSeen.await(250, TimeUnit.MILLISECONDS)) {
                Main.check(true, "the stream subscription is live (a probe event arrived)");
                return;
            }
        }
        Main.check(false, "the stream subscription never delivered a probe event");
    }

    private static boolean ok(Response r) {
        return r != null && "0".equals(r.getRespCode());
    }

    /** G10, G12, G14: publish and batch publish answered code 0; the stream consumer gets all. */
    static void pubSubCloudEvents(String host, int port, String topic) throws Exception {
        Set<String> received = ConcurrentHashMap.newKeySet();
        Map<String, CloudEvent> byText = new ConcurrentHashMap<>();
        CountDownLatch latch = new CountDownLatch(2 * EVENTS);
        CountDownLatch probe = new CountDownLatch(1);
        EventMeshGrpcConsumer sub = consumer(host, port, "grpcCompatGroup", new ReceiveMsgHook<CloudEvent>() {
            public Optional<CloudEvent> handle(CloudEvent e) {
                if ("probe".equals(text(e))) {
                    probe.countDown();
                } else if (received.add(text(e))) {
                    byText.put(text(e), e);
                    latch.countDown();
                }
                return Optional.empty();
            }

            public EventMeshProtocolType getProtocolType() {
                return EventMeshProtocolType.CLOUD_EVENTS;
            }
        });
        sub.subscribe(Collections.singletonList(new SubscriptionItem(topic, SubscriptionMode.CLUSTERING, SubscriptionType.ASYNC)));
        EventMeshGrpcProducer pub = producer(host, port, "grpcCompatGroup");
        awaitSubscribed(() -> pub.publish(cloudEvent(topic, "probe")), probe);
        for (int i = 0; i < EVENTS; i++) {
            Response r = pub.publish(cloudEvent(topic, "one-" + i));
            Main.check(ok(r), "publish " + i + " answered respCode 0 (got " + r + ")");
        }
        List<CloudEvent> batch = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            batch.add(cloudEvent(topic, "batch-" + i));
        }
        Response br = pub.publish(batch);
        Main.check(ok(br), "batch publish of " + EVENTS + " answered respCode 0 (got " + br + ")");
        Main.check(latch.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "consumer received all " + 2 * EVENTS + " events (got " + received.size() + ")");
        CloudEvent first = byText.get("one-0");
        Main.check(first != null && topic.equals(first.getSubject()), "pushed event keeps its subject (topic)");
        Main.check(first != null && "x".equals(String.valueOf(first.getExtension("compatext"))), "pushed event keeps its extension compatext");
    }

    static void pubSubEventMeshMessage(String host, int port, String topic) throws Exception {
        Set<String> received = ConcurrentHashMap.newKeySet();
        CountDownLatch latch = new CountDownLatch(EVENTS);
        CountDownLatch probe = new CountDownLatch(1);
        EventMeshGrpcConsumer sub = consumer(host, port, "grpcCompatMsgGroup", new ReceiveMsgHook<EventMeshMessage>() {
            public Optional<EventMeshMessage> handle(EventMeshMessage m) {
                if ("probe".equals(m.getContent())) {
                    probe.countDown();
                } else if (received.add(m.getContent())) {
                    latch.countDown();
                }
                return Optional.empty();
            }

            public EventMeshProtocolType getProtocolType() {
                return EventMeshProtocolType.EVENT_MESH_MESSAGE;
            }
        });
        sub.subscribe(Collections.singletonList(new SubscriptionItem(topic, SubscriptionMode.CLUSTERING, SubscriptionType.ASYNC)));
        EventMeshGrpcProducer pub = producer(host, port, "grpcCompatMsgGroup");
        awaitSubscribed(() -> pub.publish(EventMeshMessage.builder().topic(topic).content("probe")
            .bizSeqNo("1").uniqueId(UUID.randomUUID().toString()).prop(new HashMap<>()).build()), probe);
        for (int i = 0; i < EVENTS; i++) {
            Map<String, String> prop = new HashMap<>();
            prop.put("compatindex", String.valueOf(i));
            EventMeshMessage m = EventMeshMessage.builder().topic(topic).content("message-" + i)
                .bizSeqNo(String.valueOf(1000 + i)).uniqueId(UUID.randomUUID().toString()).prop(prop).build();
            Response r = pub.publish(m);
            Main.check(ok(r), "publish EventMeshMessage " + i + " answered respCode 0 (got " + r + ")");
        }
        Main.check(latch.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "consumer received all " + EVENTS + " EventMeshMessages (got " + received + ")");
    }

    /** G11, G15: requestReply answered by a SYNC stream consumer's reply. */
    static void requestReply(String host, int port, String topic) throws Exception {
        EventMeshGrpcConsumer responder = consumer(host, port, "grpcCompatRRGroup", new ReceiveMsgHook<CloudEvent>() {
            public Optional<CloudEvent> handle(CloudEvent e) {
                return Optional.of(CloudEventBuilder.from(e).withId(UUID.randomUUID().toString())
                    .withData(("reply-to:" + text(e)).getBytes(StandardCharsets.UTF_8)).build());
            }

            public EventMeshProtocolType getProtocolType() {
                return EventMeshProtocolType.CLOUD_EVENTS;
            }
        });
        responder.subscribe(Collections.singletonList(new SubscriptionItem(topic, SubscriptionMode.CLUSTERING, SubscriptionType.SYNC)));
        EventMeshGrpcProducer requester = producer(host, port, "grpcCompatRRGroup");
        // The subscription is asynchronous: a request published before it joined gets no reply.
        boolean live = false;
        for (int i = 0; i < 20 && !live; i++) {
            CloudEvent probe = cloudEvent(topic, "probe");
            CloudEvent withTtl = CloudEventBuilder.from(probe).withExtension("ttl", "500").build();
            try {
                live = requester.requestReply(withTtl, 1000) != null;
            } catch (RuntimeException e) {
                live = false; // DEADLINE_EXCEEDED before the responder joined
            }
        }
        Main.check(live, "responder subscribed " + topic + " (CLUSTERING, SYNC) on a stream and answers");
        for (int i = 0; i < EVENTS; i++) {
            CloudEvent reply = requester.requestReply(cloudEvent(topic, "question-" + i), TIMEOUT_MS);
            String body = reply == null ? null : text(reply);
            Main.check(body != null && body.contains("reply-to:question-" + i), "requestReply " + i + " returned the responder's answer (got " + body + ")");
        }
    }

    /** G13, G16, G26: webhook subscription; pushes reach the url; unsubscribe answered code 0. */
    static void webhook(String host, int port, String topic) throws Exception {
        Set<String> contents = ConcurrentHashMap.newKeySet();
        CountDownLatch latch = new CountDownLatch(EVENTS);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", exchange -> {
            String body;
            try (InputStream in = exchange.getRequestBody()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            for (String pair : body.split("&")) {
                String[] kv = pair.split("=", 2);
                if (kv.length == 2 && kv[0].equals("content")) {
                    String content = URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
                    for (int i = 0; i < EVENTS; i++) {
                        if (content.contains("hook-" + i) && contents.add("hook-" + i)) {
                            latch.countDown();
                        }
                    }
                }
            }
            byte[] answer = "{\"retCode\":1}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
        Main.track(() -> server.stop(0));
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        EventMeshGrpcConsumer sub = consumer(host, port, "grpcCompatHookGroup", null);
        List<SubscriptionItem> items = Collections.singletonList(new SubscriptionItem(topic, SubscriptionMode.CLUSTERING, SubscriptionType.ASYNC));
        Response r = sub.subscribe(items, url);
        Main.check(ok(r), "webhook subscribe answered respCode 0 (got " + r + ")");
        EventMeshGrpcProducer pub = producer(host, port, "grpcCompatHookGroup");
        for (int i = 0; i < EVENTS; i++) {
            Main.check(ok(pub.publish(cloudEvent(topic, "hook-" + i))), "publish " + i + " answered respCode 0");
        }
        Main.check(latch.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "the webhook received all " + EVENTS + " events (got " + contents + ")");
        Response u = sub.unsubscribe(items, url);
        Main.check(ok(u), "webhook unsubscribe answered respCode 0 (got " + u + ")");
    }
}
